import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { type TextKind, validateText } from '../src/index.js';

/** The error validateText throws, reduced to what a client sees. */
function refusal(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    const { message, extensions } = error as GraphQLError;
    return { message, extensions };
  }
  throw new Error('expected validateText to refuse the value');
}

const refused = (value: string, kind: TextKind) =>
  refusal(() => validateText(value, 'f', { kind })).extensions.code === 'BAD_USER_INPUT';

// Real text from people: accents (composed and decomposed), CJK, Arabic and Hebrew
// letters, emoji with skin tones, ZWJ families, flags and a subdivision flag (tag
// characters), and ZWNJ as Persian spells with it.
const ORDINARY = [
  'Leg day',
  'José Lima',
  'Jose\u0301 Lima',
  'Łódź Ørsted Ærø straße',
  '朝のランニング 5km',
  '晨跑 오늘의 운동',
  'تمرين الصباح',
  'אימון בוקר!',
  'Ana 👩‍👩‍👧 💪🏽',
  '🏳️‍🌈 🇧🇷 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}',
  'می\u200Cخواهم',
  'नमस्ते',
  '😀'.repeat(40),
];

describe('validateText', () => {
  it.each(ORDINARY)('should pass %j through unchanged in every kind', (value) => {
    for (const kind of ['text', 'multiline', 'identifier', 'secret'] as const) {
      expect(validateText(value, 'f', { kind })).toBe(value);
    }
  });

  it('should name the field in extensions.field and the message, or as told', () => {
    expect(refusal(() => validateText('a\u0000', 'title'))).toEqual({
      message: 'title must not contain control or invisible characters.',
      extensions: { code: 'BAD_USER_INPUT', field: 'title' },
    });
    expect(refusal(() => validateText('a\u202E', 'displayName', { label: 'Display name' }))).toEqual({
      message: 'Display name must not contain control or invisible characters.',
      extensions: { code: 'BAD_USER_INPUT', field: 'displayName' },
    });
    expect(
      refusal(() => validateText('\uD800', 'promoCode', { kind: 'identifier', nameKey: 'argument' })),
    ).toEqual({
      message: 'promoCode must be well-formed Unicode: it has an unpaired surrogate.',
      extensions: { code: 'BAD_USER_INPUT', argument: 'promoCode' },
    });
  });

  const everywhere: [string, string][] = [
    ['NUL', 'a\u0000b'],
    ['a lone high surrogate', 'a\uD83Db'],
    ['a lone low surrogate', 'a\uDE00b'],
    ['a low surrogate before its high one', '\uDE00\uD83D'],
    ['a lone surrogate at the end', 'ab\uD83D'],
  ];
  it.each(everywhere)('should refuse %s in every kind, passwords included', (_, value) => {
    for (const kind of ['text', 'multiline', 'identifier', 'secret'] as const) {
      expect(refused(value, kind)).toBe(true);
    }
  });

  const inText: [string, string][] = [
    ['SOH', '\u0001'],
    ['BEL', '\u0007'],
    ['ESC', '\u001B[31m'],
    ['CR', '\r'],
    ['vertical tab', '\u000B'],
    ['US', '\u001F'],
    ['DEL', '\u007F'],
    ['the first C1 control', '\u0080'],
    ['NEL', '\u0085'],
    ['CSI', '\u009B'],
    ['the last C1 control', '\u009F'],
    ['LRE', '\u202A'],
    ['RLE', '\u202B'],
    ['PDF', '\u202C'],
    ['LRO', '\u202D'],
    ['RLO', '\u202E'],
    ['LRI', '\u2066'],
    ['RLI', '\u2067'],
    ['FSI', '\u2068'],
    ['PDI', '\u2069'],
    ['the line separator', '\u2028'],
    ['the paragraph separator', '\u2029'],
    ['a private-use character', '\uE000'],
    ['a noncharacter', '\uFFFF'],
    ['an unassigned code point', '\u{E0080}'],
  ];
  it.each(inText)('should refuse %s in text, multiline text and identifiers', (_, control) => {
    for (const kind of ['text', 'multiline', 'identifier'] as const) {
      expect(refused(`ab${control}cd`, kind)).toBe(true);
    }
  });

  it('should refuse a control at either end rather than leave it to trimming', () => {
    expect(refused('\u0000Ana', 'text')).toBe(true);
    expect(refused('Ana\n', 'text')).toBe(true);
  });

  it('should allow tab and line feed in multiline text only', () => {
    expect(validateText('Squats\n\t5 x 5', 'notes', { kind: 'multiline' })).toBe('Squats\n\t5 x 5');
    expect(refused('Squats\n5 x 5', 'text')).toBe(true);
    expect(refused('Squats\t5 x 5', 'text')).toBe(true);
    expect(refused('Squats\n5 x 5', 'identifier')).toBe(true);
    expect(refused('Squats\r\n5 x 5', 'multiline')).toBe(true);
  });

  it('should keep bidi marks in text for people and refuse them in identifiers', () => {
    for (const mark of ['\u200E', '\u200F', '\u061C']) {
      const value = `שלום${mark}!`;
      expect(validateText(value, 'f')).toBe(value);
      expect(validateText(value, 'f', { kind: 'multiline' })).toBe(value);
      expect(refused(value, 'identifier')).toBe(true);
    }
  });

  it('should refuse only NUL and lone surrogates in a password', () => {
    const unusual = 'pa\u0007ss\u202E wo\u0085rd\t\n\u200F\uE000';
    expect(validateText(unusual, 'password', { kind: 'secret' })).toBe(unusual);
    expect(
      refusal(() => validateText('pass\u0000word', 'password', { kind: 'secret', label: 'Password' })),
    ).toEqual({
      message: 'Password must not contain NUL characters.',
      extensions: { code: 'BAD_USER_INPUT', field: 'password' },
    });
  });

  it('should accept the empty string; lengths are for each field to decide', () => {
    expect(validateText('', 'f')).toBe('');
  });
});
