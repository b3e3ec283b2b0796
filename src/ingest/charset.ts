import chardet from 'chardet';
import iconv from 'iconv-lite';

/**
 * Encodings of user CSVs (issue: UTF-8, UTF-16 with BOM, Windows-1252/ISO-8859-1, Shift_JIS…).
 * Names are echoed in job details as `character_encoding`, so they use Zoho's spelling (`UTF-8`).
 */
export function detectEncoding(sample: Buffer): string {
  if (sample.length >= 3 && sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'UTF-8';
  if (sample.length >= 2 && sample[0] === 0xff && sample[1] === 0xfe) return 'UTF-16LE';
  if (sample.length >= 2 && sample[0] === 0xfe && sample[1] === 0xff) return 'UTF-16BE';
  if (isUtf8(sample)) return 'UTF-8';
  const candidates = chardet.analyse(sample);
  for (const c of candidates) {
    const name = canonicalEncoding(c.name);
    // Windows-1252 decodes every printable ISO-8859-1 byte the same and also reads € ’ Š in
    // 0x80–0x9F, where ISO-8859-1 has control characters: a file that says "Latin-1" means it.
    if (name === 'ISO-8859-1') return 'windows-1252';
    if (name && name !== 'UTF-8') return name;
  }
  return 'windows-1252';
}

/** UTF-8 validity, tolerating a multi-byte sequence cut off at the end of a sample. */
function isUtf8(buf: Buffer): boolean {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    let extra: number;
    if (b < 0x80) extra = 0;
    else if (b >= 0xc2 && b < 0xe0) extra = 1;
    else if (b >= 0xe0 && b < 0xf0) extra = 2;
    else if (b >= 0xf0 && b < 0xf5) extra = 3;
    else return false;
    // Check the continuation bytes the sample has; a sequence may only be cut by the sample's end.
    for (let k = 1; k <= extra && i + k < buf.length; k++) if (((buf[i + k] as number) & 0xc0) !== 0x80) return false;
    if (i + extra >= buf.length) return true;
    i += extra + 1;
  }
  return true;
}

const ALIASES: Record<string, string> = {
  'utf-8': 'UTF-8',
  utf8: 'UTF-8',
  'utf-16le': 'UTF-16LE',
  'utf-16be': 'UTF-16BE',
  'utf-16': 'UTF-16LE',
  'iso-8859-1': 'ISO-8859-1',
  latin1: 'ISO-8859-1',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  shift_jis: 'Shift_JIS',
  'shift-jis': 'Shift_JIS',
  sjis: 'Shift_JIS',
  'euc-jp': 'EUC-JP',
  'euc-kr': 'EUC-KR',
  gb18030: 'GB18030',
  big5: 'Big5',
  'iso-8859-2': 'ISO-8859-2',
  'windows-1250': 'windows-1250',
  'windows-1251': 'windows-1251',
};

/** The canonical spelling of a supported encoding, or null when iconv cannot decode it. */
export function canonicalEncoding(name: string): string | null {
  const trimmed = name.trim();
  const alias = ALIASES[trimmed.toLowerCase()];
  if (alias) return alias;
  return iconv.encodingExists(trimmed) ? trimmed : null;
}

/** Decodes a sample that may end in the middle of a character (the tail is just dropped). */
export function decodeSample(sample: Buffer, encoding: string): string {
  return iconv.decode(sample, encoding);
}
