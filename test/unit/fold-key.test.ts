import { describe, expect, it } from 'vitest';
import { foldKey } from '../../src/domain/metadata.js';

/** What a key is by definition: NFC, then Unicode's default lower case (both stores hold these). */
const reference = (value: string | number | boolean): string => String(value).normalize('NFC').toLowerCase();

describe('foldKey', () => {
  it.each([
    ['a lower-case email, as it is', 'lead12@example.com', 'lead12@example.com'],
    ['capitals lowered', 'Lead12@Example.COM', 'lead12@example.com'],
    ['a tab kept', 'a\tB', 'a\tb'],
    ['an accented capital', 'ÉCOLE', 'école'],
    ['a decomposed accent composed first', 'E\u0301cole', 'école'],
    ['a final sigma', 'ΟΔΟΣ', 'οδος'],
    ['a line break', 'A\nB', 'a\nb'],
    ['a number', 42, '42'],
    ['a boolean', true, 'true'],
    ['an empty string', '', ''],
  ])('%s', (_spec, value, expected) => {
    expect(foldKey(value)).toBe(expected);
  });

  it('gives what NFC and lower case give, for ASCII, control characters and other scripts alike', () => {
    // A deterministic mix: printable ASCII with capitals, tabs and controls, Latin-1, Greek,
    // combining marks, CJK and an emoji (a surrogate pair).
    const alphabet = ['a', 'Z', 'm', 'Q', '@', '.', '0', ' ', '\t', '\n', '\u007f', 'é', 'É', 'ß', 'Σ', 'ς', '\u0301', '中', '😀', 'İ', '~'];
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let n = 0; n < 5000; n++) {
      let s = '';
      const length = next() % 12;
      for (let i = 0; i < length; i++) s += alphabet[next() % alphabet.length];
      expect(foldKey(s)).toBe(reference(s));
    }
  });
});
