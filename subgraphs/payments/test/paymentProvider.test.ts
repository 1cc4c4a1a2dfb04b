import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { SANDBOX_KEY_RETENTION_MS, SandboxPaymentProvider } from '../src/datasources/PaymentProvider.js';
import { DEFAULT_PENDING_TIMEOUT_SECONDS } from '../src/datasources/PaymentsStore.js';

const charge = (idempotencyKey: string, paymentMethodToken = 'tok_visa') => ({
  idempotencyKey,
  amountCents: 999,
  currency: 'USD',
  paymentMethodToken,
});

/** What loadConfig printed before it exited the process (here: threw instead). */
function refusedConfig(env: NodeJS.ProcessEnv): string {
  const printed: string[] = [];
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
    throw new Error('exited');
  });
  try {
    expect(() => loadConfig(env)).toThrow('exited');
    return printed.join('');
  } finally {
    write.mockRestore();
    exit.mockRestore();
  }
}

function clocked(options: { keyRetentionMs?: number; maxKeys?: number } = {}) {
  const clock = { now: 1_000_000 };
  const provider = new SandboxPaymentProvider({ ...options, now: () => clock.now });
  return { clock, provider };
}

describe('SandboxPaymentProvider', () => {
  it('should charge once per key within its retention, and again once the key is forgotten', async () => {
    const { clock, provider } = clocked({ keyRetentionMs: 1_000 });
    const first = await provider.charge(charge('key-a'));
    clock.now += 999;
    expect(await provider.charge(charge('key-a'))).toEqual(first);
    expect(provider.chargesMade).toBe(1);
    clock.now += 1;
    await provider.charge(charge('key-a'));
    expect(provider.chargesMade).toBe(2);
  });

  it('should forget expired keys as time passes, so the map does not grow with traffic', async () => {
    const { clock, provider } = clocked({ keyRetentionMs: 1_000 });
    for (let i = 0; i < 50; i++) {
      await provider.charge(charge(`key-${i}`));
      clock.now += 100;
    }
    // Ten keys are younger than the retention: the rest went as new ones came.
    expect(provider.size).toBe(10);
  });

  it('should keep at most maxKeys, forgetting the oldest first', async () => {
    const { provider } = clocked({ maxKeys: 3 });
    for (const key of ['k1', 'k2', 'k3', 'k4']) await provider.charge(charge(key));
    expect(provider.size).toBe(3);
    await provider.charge(charge('k4'));
    await provider.charge(charge('k2'));
    expect(provider.chargesMade).toBe(4);
    await provider.charge(charge('k1'));
    expect(provider.chargesMade).toBe(5);
  });

  it('should answer a look-up with the charge made, and void a key never charged so it is never charged later', async () => {
    const { provider } = clocked();
    const charged = await provider.charge(charge('charged'));
    expect(await provider.lookupOrVoid('charged')).toEqual(charged);
    const declined = await provider.charge(charge('declined', 'tok_chargeDeclined'));
    expect(await provider.lookupOrVoid('declined')).toEqual(declined);

    expect(await provider.lookupOrVoid('never')).toEqual({ status: 'voided' });
    expect(await provider.charge(charge('never'))).toMatchObject({ status: 'declined' });
    expect(await provider.lookupOrVoid('never')).toEqual({ status: 'voided' });
    expect(provider.chargesMade).toBe(2);
  });

  it('should remember keys longer than any pending timeout the configuration accepts', () => {
    expect(DEFAULT_PENDING_TIMEOUT_SECONDS).toBe(900);
    expect(loadConfig({}).pendingTimeoutSeconds).toBe(DEFAULT_PENDING_TIMEOUT_SECONDS);
    expect(loadConfig({ PAYMENTS_PENDING_TIMEOUT_SECONDS: '43200' }).pendingTimeoutSeconds).toBe(43_200);
    for (const refused of ['43201', '10']) {
      expect(refusedConfig({ PAYMENTS_PENDING_TIMEOUT_SECONDS: refused })).toMatch(
        /PAYMENTS_PENDING_TIMEOUT_SECONDS/,
      );
    }
    // Twice the longest timeout: a sweep still finds the key remembered.
    expect(SANDBOX_KEY_RETENTION_MS).toBeGreaterThanOrEqual(2 * 43_200 * 1_000);
  });
});
