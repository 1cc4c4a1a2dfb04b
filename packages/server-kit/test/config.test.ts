import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEVELOPMENT_ROUTER_SECRET,
  optionalUrl,
  parseConfig,
  port,
  refuseEmbeddedStores,
  routerSecretCheck,
  routerSecretFrom,
  secretBits,
  weakSecretReason,
  z,
} from '../src/index.js';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production']).default('development'),
  PORT: port(4000),
  LEVEL: z.enum(['info', 'debug']).default('info'),
  DATABASE_URL: optionalUrl(),
  PROVIDER: z.string().optional(),
});

/** What parseConfig printed before it exited the process (here: threw instead). */
function refused(run: () => unknown): string {
  const printed: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  vi.spyOn(process, 'exit').mockImplementation(() => {
    throw new Error('exited');
  });
  expect(run).toThrow('exited');
  return printed.join('');
}

afterEach(() => {
  vi.restoreAllMocks();
});

const build = (env: NodeJS.ProcessEnv) =>
  parseConfig('svc', schema, env, (c, checks) => {
    const production = c.NODE_ENV === 'production';
    if (production && !c.PROVIDER) checks.report('PROVIDER', 'must be set when NODE_ENV=production');
    refuseEmbeddedStores(
      { production, allowEmbedded: false },
      { DATABASE_URL: { url: c.DATABASE_URL, standIn: 'an embedded database' } },
      checks.report,
    );
    const key = checks.attempt(['PROVIDER'], () => {
      if (c.PROVIDER === 'broken') throw new Error('PROVIDER cannot be read.');
      return c.PROVIDER;
    });
    return { production, port: c.PORT, key };
  });

describe('parseConfig', () => {
  it('should return what build makes of a valid environment', () => {
    expect(build({ PORT: '1234' })).toEqual({ production: false, port: 1234, key: undefined });
  });

  it('should list every problem at once, of single variables and of rules, one line each and without a stack', () => {
    const text = refused(() => build({ NODE_ENV: 'production', PORT: 'x', LEVEL: 'loud' }));
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('svc: invalid configuration');
    expect(lines.slice(1).map((l) => l.trim().split(':')[0])).toEqual([
      'PORT',
      'LEVEL',
      'PROVIDER',
      'DATABASE_URL',
    ]);
    expect(text).toMatch(
      /DATABASE_URL: must be set when NODE_ENV=production \(unset: an embedded database\)/,
    );
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('should list what a derivation throws, and drop rules about a variable that is invalid already', () => {
    expect(refused(() => build({ PROVIDER: 'broken' }))).toBe(
      'svc: invalid configuration\n  PROVIDER cannot be read.\n',
    );
    const strict = z.object({ NODE_ENV: z.literal('production'), PROVIDER: z.string().min(3) });
    const text = refused(() =>
      parseConfig('svc', strict, { NODE_ENV: 'production', PROVIDER: 'x' }, (c, checks) => {
        checks.report('PROVIDER', 'is not a known provider');
        checks.attempt(['PROVIDER'], () => {
          throw new Error('never reached');
        });
        return c.PROVIDER.toUpperCase();
      }),
    );
    expect(text.trim().split('\n')).toHaveLength(2);
    expect(text).toMatch(/PROVIDER: Too small/i);
  });
});

describe('weakSecretReason', () => {
  it('should accept generated secrets', () => {
    for (let i = 0; i < 200; i++) {
      expect(weakSecretReason(randomBytes(32).toString('hex'))).toBeUndefined();
      expect(weakSecretReason(randomBytes(32).toString('base64'))).toBeUndefined();
      expect(weakSecretReason(randomUUID())).toBeUndefined();
    }
  });

  it('should refuse short, repetitive, few-character and published secrets', () => {
    expect(weakSecretReason('a'.repeat(32))).toMatch(/different characters/);
    expect(weakSecretReason('ab'.repeat(40))).toMatch(/different characters/);
    expect(weakSecretReason('passwordpasswordpasswordpassword')).toMatch(/different characters/);
    expect(weakSecretReason(`${'a'.repeat(60)}bcdefghijk`)).toMatch(/predictable/);
    expect(weakSecretReason('short-but-varied-9!')).toMatch(/at least 32/);
    expect(weakSecretReason(DEVELOPMENT_ROUTER_SECRET, [DEVELOPMENT_ROUTER_SECRET])).toMatch(/development/);
    expect(secretBits('a'.repeat(64))).toBe(0);
  });
});

describe('ROUTER_SUBGRAPH_SECRET', () => {
  const from = (env: { ROUTER_SUBGRAPH_SECRET?: string }, production: boolean) => {
    const problems: string[] = [];
    const secret = routerSecretFrom(env, production, (v, m) => problems.push(`${v}: ${m}`));
    return { secret, problems };
  };

  it('should default outside production and be required, and strong, in production', () => {
    expect(from({}, false)).toEqual({ secret: DEVELOPMENT_ROUTER_SECRET, problems: [] });
    expect(from({ ROUTER_SUBGRAPH_SECRET: 'a'.repeat(32) }, false).problems).toEqual([]);
    expect(from({}, true).problems).toEqual(['ROUTER_SUBGRAPH_SECRET: must be set when NODE_ENV=production']);
    expect(from({ ROUTER_SUBGRAPH_SECRET: 'a'.repeat(32) }, true).problems).toHaveLength(1);
    expect(from({ ROUTER_SUBGRAPH_SECRET: DEVELOPMENT_ROUTER_SECRET }, true).problems).toHaveLength(1);
    const strong = randomBytes(32).toString('hex');
    expect(from({ ROUTER_SUBGRAPH_SECRET: strong }, true)).toEqual({ secret: strong, problems: [] });
  });

  it('should match only the exact secret, whatever the length or type presented', () => {
    const secret = randomBytes(32).toString('hex');
    const check = routerSecretCheck(secret);
    expect(check(secret)).toBe(true);
    for (const other of ['', secret.slice(0, -1), `${secret} `, secret.toUpperCase(), 'x'.repeat(1000)]) {
      expect(check(other)).toBe(false);
    }
    for (const other of [undefined, null, 42, [secret], { secret }]) expect(check(other)).toBe(false);
  });
});
