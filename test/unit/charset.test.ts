import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { canonicalEncoding, decodeSample, detectEncoding } from '../../src/ingest/charset.js';
import { eachCase } from './case-table.js';

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const UTF16LE_BOM = Buffer.from([0xff, 0xfe]);
const UTF16BE_BOM = Buffer.from([0xfe, 0xff]);

const ACCENTED = 'Last_Name;City\r\nMüller;Café\r\n';
const JAPANESE = 'Last_Name,Company,City\r\n山田,株式会社東京商事,東京都\r\n佐藤,大阪物産株式会社,大阪府\r\n鈴木,名古屋工業,愛知県\r\n';

describe('detectEncoding', () => {
  eachCase([
    { spec: 'reads ASCII as UTF-8', bytes: Buffer.from('Last_Name,Email\r\nBoyle,p@zylker.com\r\n', 'utf8'), expected: 'UTF-8' },
    { spec: 'reads an empty sample as UTF-8', bytes: Buffer.alloc(0), expected: 'UTF-8' },
    { spec: 'reads accented UTF-8 without BOM as UTF-8', bytes: Buffer.from(ACCENTED, 'utf8'), expected: 'UTF-8' },
    { spec: 'reads a UTF-8 BOM as UTF-8', bytes: Buffer.concat([UTF8_BOM, Buffer.from(ACCENTED, 'utf8')]), expected: 'UTF-8' },
    { spec: 'reads Japanese UTF-8 as UTF-8', bytes: Buffer.from(JAPANESE, 'utf8'), expected: 'UTF-8' },
    {
      spec: 'tolerates a UTF-8 character cut off at the end of the sample',
      bytes: Buffer.from('Müller;Café', 'utf8').subarray(0, -1),
      expected: 'UTF-8',
    },
    { spec: 'reads a UTF-16LE BOM as UTF-16LE', bytes: Buffer.concat([UTF16LE_BOM, iconv.encode(ACCENTED, 'utf16le')]), expected: 'UTF-16LE' },
    { spec: 'reads a UTF-16BE BOM as UTF-16BE', bytes: Buffer.concat([UTF16BE_BOM, iconv.encode(ACCENTED, 'utf16be')]), expected: 'UTF-16BE' },
    // chardet names Latin-1 text ISO-8859-1; it is read as Windows-1252, its printable superset.
    { spec: 'reads Windows-1252 "Müller;Café" as windows-1252', bytes: iconv.encode('Müller;Café', 'windows-1252'), expected: 'windows-1252' },
    { spec: 'reads a Windows-1252 CSV with accents as windows-1252', bytes: iconv.encode(ACCENTED, 'windows-1252'), expected: 'windows-1252' },
    { spec: 'reads a Shift_JIS CSV of Japanese names as Shift_JIS', bytes: iconv.encode(JAPANESE, 'Shift_JIS'), expected: 'Shift_JIS' },
    { spec: 'reads a Shift_JIS line of Japanese text as Shift_JIS', bytes: iconv.encode('山田太郎;東京都;日本語のテキストです', 'Shift_JIS'), expected: 'Shift_JIS' },
  ], ({ bytes, expected }) => {
    expect(detectEncoding(bytes)).toBe(expected);
  });

  eachCase([
    { spec: 'decodes Windows-1252 accents back to the original text', text: ACCENTED, encoding: 'windows-1252' },
    { spec: 'decodes Shift_JIS back to the original text', text: JAPANESE, encoding: 'Shift_JIS' },
    { spec: 'decodes UTF-16LE with BOM back to the original text, BOM dropped', text: ACCENTED, encoding: 'utf16le', bom: UTF16LE_BOM },
    { spec: 'decodes UTF-8 with BOM back to the original text, BOM dropped', text: ACCENTED, encoding: 'utf8', bom: UTF8_BOM },
  ], ({ text, encoding, bom }) => {
    const bytes = Buffer.concat([bom ?? Buffer.alloc(0), iconv.encode(text, encoding)]);
    expect(decodeSample(bytes, detectEncoding(bytes))).toBe(text);
  });

  it('does not take a Windows-1252 CSV ending in "Renée" for UTF-8', () => {
    expect(detectEncoding(iconv.encode('Last_Name\nRenée', 'windows-1252'))).toBe('windows-1252');
  });
});

describe('canonicalEncoding', () => {
  eachCase([
    { name: 'UTF-8', expected: 'UTF-8' },
    { name: 'utf8', expected: 'UTF-8' },
    { name: 'UTF-16', expected: 'UTF-16LE' },
    { name: 'utf-16be', expected: 'UTF-16BE' },
    { name: 'latin1', expected: 'ISO-8859-1' },
    { name: 'ISO-8859-1', expected: 'ISO-8859-1' },
    { name: 'CP1252', expected: 'windows-1252' },
    { name: 'Windows-1252', expected: 'windows-1252' },
    { name: ' Shift-JIS ', expected: 'Shift_JIS' },
    { name: 'sjis', expected: 'Shift_JIS' },
    { name: 'EUC-JP', expected: 'EUC-JP' },
    { name: 'big5', expected: 'Big5' },
    { name: 'koi8-r', expected: 'koi8-r' },
    { name: 'klingon', expected: null },
    { name: '', expected: null },
  ], (r) => `spells "${r.name}" as ${String(r.expected)}`, ({ name, expected }) => {
    expect(canonicalEncoding(name)).toBe(expected);
  });

  it('trims a name that iconv knows but no alias lists', () => {
    expect(canonicalEncoding(' koi8-r ')).toBe('koi8-r');
  });
});
