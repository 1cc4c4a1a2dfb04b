/**
 * One of each kind of character that every client-sent string is refused for
 * (validateText in server-kit), for the operation tests of each field.
 */
export const REFUSED_CHARACTERS: readonly (readonly [name: string, character: string])[] = [
  ['NUL', '\u0000'],
  ['a C1 control', '\u0085'],
  ['a right-to-left override', '\u202E'],
  // Decoded from a JSON escape, which is how a request body delivers one.
  ['a lone surrogate', JSON.parse('"\\ud800"') as string],
];

/** People's text, already NFC, that every text field must keep as sent. */
export const ORDINARY_TEXT: readonly string[] = [
  'Łódź Ørsted straße',
  '朝のランニング 晨跑 운동',
  'تمرين الصباح',
  'Ana 👩‍👩‍👧 💪🏽 🏳️‍🌈',
];
