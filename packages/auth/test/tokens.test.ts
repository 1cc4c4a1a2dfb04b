import { base64url, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenIssuer, createTokenVerifier, viewerFromAuthorization } from '../src/index.js';

const settings = {
  secret: 'a-test-secret-that-is-long-enough-123',
  issuer: 'fitness-users',
  audience: 'fitness-api',
};
const issue = createTokenIssuer({ ...settings, ttlSeconds: 3600 });
const verify = createTokenVerifier(settings);

describe('tokens', () => {
  it('should verify a token it issued and return the subject', async () => {
    const { token, expiresAt } = await issue('user-1');
    const verified = await verify(token);
    expect(verified.userId).toBe('user-1');
    expect(verified.expiresAt.getTime()).toBe(expiresAt.getTime());
  });

  describe('a token verified before', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('should be answered again while valid, and refused once it has expired', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const { token, expiresAt } = await issue('user-cached');
      expect((await verify(token)).userId).toBe('user-cached');
      expect((await verify(token)).userId).toBe('user-cached');
      // Past its expiry (and the 5 s of clock tolerance): the cached verdict is not used.
      vi.setSystemTime(expiresAt.getTime() + 10_000);
      await expect(verify(token)).rejects.toThrow('Token has expired.');
    });

    it('should be checked again after a minute, also when it has not expired', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const { token } = await issue('user-rechecked');
      const lookups: string[] = [];
      const counting = createTokenVerifier(settings, {
        revocations: {
          isRevoked: async (userId: string) => {
            lookups.push(userId);
            return false;
          },
        } as never,
      });
      await counting(token);
      await counting(token);
      // Revocation is looked up on every request, cached or not.
      expect(lookups).toEqual(['user-rechecked', 'user-rechecked']);
      vi.setSystemTime(Date.now() + 61_000);
      expect((await counting(token)).userId).toBe('user-rechecked');
    });
  });

  it('should refuse an expired token', async () => {
    const { token } = await issue('user-1', new Date(Date.now() - 2 * 3600_000));
    await expect(verify(token)).rejects.toThrow('Token has expired.');
  });

  it('should refuse a token signed with another secret', async () => {
    const other = createTokenIssuer({
      ...settings,
      secret: 'another-secret-that-is-long-enough-456',
      ttlSeconds: 60,
    });
    const { token } = await other('user-1');
    await expect(verify(token)).rejects.toThrow('Token is invalid.');
  });

  it('should refuse wrong issuer and wrong audience', async () => {
    const wrongIss = createTokenIssuer({ ...settings, issuer: 'someone-else', ttlSeconds: 60 });
    const wrongAud = createTokenIssuer({ ...settings, audience: 'other-api', ttlSeconds: 60 });
    await expect(verify((await wrongIss('u')).token)).rejects.toThrow('Token is invalid.');
    await expect(verify((await wrongAud('u')).token)).rejects.toThrow('Token is invalid.');
  });

  it('should refuse alg none and a tampered payload', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'admin', iss: settings.issuer, aud: settings.audience, iat: now, exp: now + 60 };
    await expect(verify(`${header}.${base64url.encode(JSON.stringify(claims))}.`)).rejects.toThrow();

    const { token } = await issue('user-1');
    const [h, , s] = token.split('.');
    const forged = `${h}.${base64url.encode(JSON.stringify({ ...claims, sub: 'user-2' }))}.${s}`;
    await expect(verify(forged)).rejects.toThrow('Token is invalid.');
  });

  it('should refuse a token without a subject', async () => {
    const key = new TextEncoder().encode(settings.secret);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key);
    await expect(verify(token)).rejects.toThrow();
  });
});

describe('region claim', () => {
  it('should carry the region from issuer to verifier and viewer', async () => {
    const { token } = await issue({ userId: 'user-1', region: 'APAC' });
    expect((await verify(token)).region).toBe('APAC');
    expect(await viewerFromAuthorization(`Bearer ${token}`, verify)).toEqual({
      userId: 'user-1',
      region: 'APAC',
    });
  });

  it('should give a null region for a token without the claim', async () => {
    const { token } = await issue('user-1');
    expect((await verify(token)).region).toBeUndefined();
    expect(await viewerFromAuthorization(`Bearer ${token}`, verify)).toEqual({
      userId: 'user-1',
      region: null,
    });
  });

  it('should accept a token with an unknown region as region-less rather than refuse it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ region: 'MARS' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-1')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(settings.secret));
    expect(await viewerFromAuthorization(`Bearer ${token}`, verify)).toEqual({
      userId: 'user-1',
      region: null,
    });
  });
});

describe('viewerFromAuthorization', () => {
  it('should treat a missing header as anonymous', async () => {
    expect(await viewerFromAuthorization(undefined, verify)).toEqual({ userId: null, region: null });
  });

  it('should turn a bad token into UNAUTHENTICATED with HTTP 401', async () => {
    const error = await viewerFromAuthorization('Bearer nope', verify).catch((e) => e);
    expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', http: { status: 401 } });
  });

  it('should refuse a header that is not a bearer token', async () => {
    const error = await viewerFromAuthorization('Basic abc', verify).catch((e) => e);
    expect(error.extensions.code).toBe('UNAUTHENTICATED');
  });
});
