import { badUserInput } from './errors.js';

/**
 * What a client-sent string is, which decides the characters it may hold:
 * - `text`: one line for people to read (titles, names).
 * - `multiline`: text for people that may span lines; tab and line feed are allowed.
 * - `identifier`: a value machines compare (handles, emails, URLs, codes, keys, ids,
 *   cursors); bidi marks are refused too, since an invisible mark would make two
 *   values that look alike differ.
 * - `secret`: a password, never shown, so only what cannot be stored or hashed the
 *   same way everywhere is refused.
 */
export type TextKind = 'text' | 'multiline' | 'identifier' | 'secret';

export interface TextRules {
  /** @default 'text' */
  kind?: TextKind;
  /** How the message names the value, e.g. "Display name". @default the field */
  label?: string;
  /**
   * The extension that names the value. Users and workouts say `field`, payments
   * says `argument`; each service keeps to its own.
   * @default 'field'
   */
  nameKey?: 'field' | 'argument';
}

// With the u flag a well-formed pair is one code point, so only a lone half matches.
// JSON.parse and graphql-js turn the escape "\ud800" into exactly that; encoding it
// as UTF-8 silently stores U+FFFD instead.
const LONE_SURROGATE = /\p{Cs}/u;

// C0 controls, DEL and C1 controls. NUL is refused by PostgreSQL text, ESC starts
// terminal sequences in logs, and none of them prints.
const CONTROLS = '\\u0000-\\u001F\\u007F-\\u009F';
const CONTROLS_BUT_TAB_LF = '\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F';
// Embeddings, overrides and isolates reorder the text around them ("Trojan Source"):
// U+202E makes "gpj.exe" read "exe.jpg".
const BIDI_CONTROLS = '\\u202A-\\u202E\\u2066-\\u2069';
// LRM, RLM and ALM only steer neutral characters such as punctuation, which
// right-to-left writers need, so people's text keeps them.
const BIDI_MARKS = '\\u200E\\u200F\\u061C';
// Private-use and unassigned code points (noncharacters included) and the line and
// paragraph separators, which break one-line layouts and line-based logs.
const UNPRINTABLE = '\\p{Co}\\p{Cn}\\u2028\\u2029';

const refusedIn = (...sets: string[]) => new RegExp(`[${sets.join('')}]`, 'u');

const REFUSED: Record<TextKind, RegExp> = {
  text: refusedIn(CONTROLS, BIDI_CONTROLS, UNPRINTABLE),
  multiline: refusedIn(CONTROLS_BUT_TAB_LF, BIDI_CONTROLS, UNPRINTABLE),
  identifier: refusedIn(CONTROLS, BIDI_CONTROLS, BIDI_MARKS, UNPRINTABLE),
  // C string hashers stop at NUL, so a password with one would not survive a change of hasher.
  secret: refusedIn('\\u0000'),
};

/**
 * The one check every client-sent string passes before a service uses it: returns
 * the value unchanged, or throws BAD_USER_INPUT naming the field. It judges the
 * value as sent, before any trimming or normalizing, so a control character at
 * either end is refused rather than quietly dropped.
 */
export function validateText(value: string, field: string, rules: TextRules = {}): string {
  const { kind = 'text', label = field, nameKey = 'field' } = rules;
  const fail = (message: string) => badUserInput(message, { [nameKey]: field });
  if (LONE_SURROGATE.test(value)) {
    throw fail(`${label} must be well-formed Unicode: it has an unpaired surrogate.`);
  }
  if (REFUSED[kind].test(value)) {
    throw fail(
      kind === 'secret'
        ? `${label} must not contain NUL characters.`
        : `${label} must not contain control or invisible characters.`,
    );
  }
  return value;
}
