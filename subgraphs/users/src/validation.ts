import { badUserInput, validateText } from '@fitness/server-kit';
import type { ProfilePatch, Region } from './datasources/models.js';

/**
 * Input rules of the client contract (schema.graphql documents them). Each
 * function returns the normalized value or throws BAD_USER_INPUT with a message
 * written for the person filling the form and `extensions.field` for the client.
 * Pure: no I/O, so the rules are unit-tested on their own.
 */

const fail = (field: string, message: string) => badUserInput(message, { field });

/** Counts code points, not UTF-16 units, so an emoji is one character. */
const length = (value: string) => [...value].length;

const EMAIL_TEXT = { kind: 'identifier', label: 'Email' } as const;
const PASSWORD_TEXT = { kind: 'secret', label: 'Password' } as const;

/** RFC 5321 caps a path at 256 octets, i.e. 254 for the address itself. */
export const EMAIL_MAX = 254;
// Dot-atom local part and a domain of at least two labels: deliberately narrower
// than RFC 5322 (no quoted local parts, no IP literals), as mail providers are.
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Trimmed and lowercased, the form it is stored and looked up in. */
export function validateEmail(value: string): string {
  const email = validateText(value, 'email', EMAIL_TEXT).trim().toLowerCase();
  if (email.length > EMAIL_MAX) throw fail('email', `Email must be at most ${EMAIL_MAX} characters.`);
  const local = email.split('@')[0] ?? '';
  if (!EMAIL.test(email) || local.length > 64) throw fail('email', 'Email must be a valid email address.');
  return email;
}

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

/** Kept as typed: trimming or normalizing a password would change what the user chose. */
export function validatePassword(value: string): string {
  validateText(value, 'password', PASSWORD_TEXT);
  const n = length(value);
  if (n < PASSWORD_MIN || n > PASSWORD_MAX) {
    throw fail('password', `Password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long.`);
  }
  return value;
}

const HANDLE = /^[a-z0-9_]{3,20}$/i;

/** Lowercased: handles are unique regardless of case. */
export function validateHandle(value: string): string {
  validateText(value, 'handle', { kind: 'identifier', label: 'Handle' });
  if (!HANDLE.test(value)) {
    throw fail('handle', 'Handle must be 3 to 20 characters of letters, digits and underscores.');
  }
  return value.toLowerCase();
}

export const DISPLAY_NAME_MAX = 50;

/** Trimmed and NFC-normalized, so two spellings of "é" are one name. */
export function validateDisplayName(value: string): string {
  const name = validateText(value, 'displayName', { label: 'Display name' }).normalize('NFC').trim();
  const n = length(name);
  if (n < 1 || n > DISPLAY_NAME_MAX) {
    throw fail('displayName', `Display name must be 1 to ${DISPLAY_NAME_MAX} characters long.`);
  }
  return name;
}

export const AVATAR_URL_MAX = 2048;

/** An https URL without credentials, or null to remove the avatar. */
export function validateAvatarUrl(value: string | null): string | null {
  if (value === null) return null;
  const raw = validateText(value, 'avatarUrl', { kind: 'identifier', label: 'Avatar URL' }).trim();
  if (raw.length > AVATAR_URL_MAX)
    throw fail('avatarUrl', `Avatar URL must be at most ${AVATAR_URL_MAX} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail('avatarUrl', 'Avatar URL must be a valid https URL.');
  }
  if (url.protocol !== 'https:' || !url.hostname)
    throw fail('avatarUrl', 'Avatar URL must be a valid https URL.');
  if (url.username || url.password) throw fail('avatarUrl', 'Avatar URL must not contain credentials.');
  return url.href;
}

export interface SignUpFields {
  email: string;
  password: string;
  handle: string;
  displayName: string;
  region?: Region | null;
}

/** Every sign-up field validated; the region falls back to the deployment's default. */
export function validateSignUp(input: SignUpFields, defaultRegion: Region) {
  return {
    email: validateEmail(input.email),
    password: validatePassword(input.password),
    handle: validateHandle(input.handle),
    displayName: validateDisplayName(input.displayName),
    region: input.region ?? defaultRegion,
  };
}

/**
 * Sign-in refuses the characters sign-up refuses, and nothing more: any other
 * mismatch is left to the password check, so that it reads as a wrong email or password.
 */
export function validateSignIn(input: { email: string; password: string }) {
  return {
    email: validateText(input.email, 'email', EMAIL_TEXT).trim().toLowerCase(),
    password: validateText(input.password, 'password', PASSWORD_TEXT),
  };
}

/**
 * A profile change: an absent field is left alone, `avatarUrl: null` removes the
 * avatar, `displayName: null` is refused because every user has a name.
 */
export function validateProfilePatch(input: {
  displayName?: string | null;
  avatarUrl?: string | null;
}): ProfilePatch {
  const patch: ProfilePatch = {};
  if (input.displayName === null) throw fail('displayName', 'Display name cannot be removed.');
  if (input.displayName !== undefined) patch.displayName = validateDisplayName(input.displayName);
  if (input.avatarUrl !== undefined) patch.avatarUrl = validateAvatarUrl(input.avatarUrl);
  return patch;
}
