import { describe, expect, it } from 'vitest';
import {
  validateAvatarUrl,
  validateDisplayName,
  validateEmail,
  validateHandle,
  validatePassword,
  validateProfilePatch,
  validateSignUp,
} from '../src/validation.js';

/** The BAD_USER_INPUT error a validator throws, for asserting its field and message. */
function refusal(run: () => unknown) {
  try {
    run();
  } catch (error) {
    const e = error as { message: string; extensions: Record<string, unknown> };
    return { message: e.message, code: e.extensions.code, field: e.extensions.field };
  }
  throw new Error('expected the validator to refuse the input');
}

describe('validateEmail', () => {
  it('should trim and lowercase a valid address', () => {
    expect(validateEmail('  Ana.Lima+gym@Example.COM ')).toBe('ana.lima+gym@example.com');
  });

  it.each([
    '',
    'ana',
    'ana@',
    '@example.com',
    'ana@example',
    'ana lima@example.com',
    'ana@@example.com',
    '.ana@example.com',
    'ana..lima@example.com',
    'ana@-example.com',
    'ana@example..com',
    'ana@exa_mple.com',
    `${'a'.repeat(65)}@example.com`,
  ])('should refuse %j', (value) => {
    expect(refusal(() => validateEmail(value))).toEqual({
      message: 'Email must be a valid email address.',
      code: 'BAD_USER_INPUT',
      field: 'email',
    });
  });

  it('should refuse an address longer than 254 characters', () => {
    const long = `${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(10)}.com`;
    expect(long.length).toBeGreaterThan(254);
    expect(refusal(() => validateEmail(long)).message).toBe('Email must be at most 254 characters.');
  });
});

describe('validatePassword', () => {
  it('should accept 10 to 128 characters as typed, spaces included', () => {
    expect(validatePassword(' 123456789')).toBe(' 123456789');
    expect(validatePassword('x'.repeat(128))).toHaveLength(128);
  });

  it('should count an emoji as one character', () => {
    expect(refusal(() => validatePassword('😀'.repeat(9))).field).toBe('password');
    expect(validatePassword('😀'.repeat(10))).toBe('😀'.repeat(10));
  });

  it.each(['', 'short', '123456789', 'x'.repeat(129)])('should refuse %j', (value) => {
    expect(refusal(() => validatePassword(value))).toEqual({
      message: 'Password must be 10 to 128 characters long.',
      code: 'BAD_USER_INPUT',
      field: 'password',
    });
  });
});

describe('validateHandle', () => {
  it('should lowercase a handle of letters, digits and underscores', () => {
    expect(validateHandle('Ana_Lima_88')).toBe('ana_lima_88');
    expect(validateHandle('abc')).toBe('abc');
    expect(validateHandle('a'.repeat(20))).toBe('a'.repeat(20));
  });

  it.each(['ab', 'a'.repeat(21), 'ana-lima', 'ana lima', 'ana.lima', 'anä', ' ana', ''])(
    'should refuse %j',
    (value) => {
      expect(refusal(() => validateHandle(value)).field).toBe('handle');
    },
  );
});

describe('validateDisplayName', () => {
  it('should trim and NFC-normalize', () => {
    expect(validateDisplayName('  Jose\u0301 Lima  ')).toBe('José Lima');
  });

  it('should accept 50 characters, emoji sequences included', () => {
    expect(validateDisplayName('x'.repeat(50))).toHaveLength(50);
    expect(validateDisplayName('Ana 👩‍👩‍👧')).toBe('Ana 👩‍👩‍👧');
  });

  it.each([
    ['', 'Display name must be 1 to 50 characters long.'],
    ['   ', 'Display name must be 1 to 50 characters long.'],
    ['x'.repeat(51), 'Display name must be 1 to 50 characters long.'],
    ['Ana\u0000', 'Display name must not contain control or invisible characters.'],
    ['Ana\nLima', 'Display name must not contain control or invisible characters.'],
    ['Ana\u2028Lima', 'Display name must not contain control or invisible characters.'],
    ['Ana\u001b[31m', 'Display name must not contain control or invisible characters.'],
  ])('should refuse %j', (value, message) => {
    expect(refusal(() => validateDisplayName(value))).toEqual({
      message,
      code: 'BAD_USER_INPUT',
      field: 'displayName',
    });
  });
});

describe('validateAvatarUrl', () => {
  it('should accept https URLs and null', () => {
    expect(validateAvatarUrl('https://cdn.example.com/a.png')).toBe('https://cdn.example.com/a.png');
    expect(validateAvatarUrl(null)).toBeNull();
  });

  it.each([
    'http://cdn.example.com/a.png',
    'javascript:alert(1)',
    'data:image/png;base64,AAAA',
    'ftp://example.com/a.png',
    'not a url',
    '',
    'https://user:pass@example.com/a.png',
    `https://example.com/${'a'.repeat(2048)}`,
  ])('should refuse %j', (value) => {
    expect(refusal(() => validateAvatarUrl(value)).field).toBe('avatarUrl');
  });
});

describe('validateSignUp', () => {
  const input = { email: 'Ana@Example.com', password: 'long enough pw', handle: 'Ana', displayName: ' Ana ' };

  it('should normalize every field and default the region', () => {
    expect(validateSignUp(input, 'US')).toEqual({
      email: 'ana@example.com',
      password: 'long enough pw',
      handle: 'ana',
      displayName: 'Ana',
      region: 'US',
    });
    expect(validateSignUp({ ...input, region: 'APAC' }, 'US').region).toBe('APAC');
  });
});

describe('validateProfilePatch', () => {
  it('should keep absent fields absent and null avatars null', () => {
    expect(validateProfilePatch({})).toEqual({});
    expect(validateProfilePatch({ avatarUrl: null })).toEqual({ avatarUrl: null });
    expect(validateProfilePatch({ displayName: ' New ' })).toEqual({ displayName: 'New' });
  });

  it('should refuse removing the display name', () => {
    expect(refusal(() => validateProfilePatch({ displayName: null })).field).toBe('displayName');
  });
});
