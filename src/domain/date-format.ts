/**
 * Java SimpleDateFormat-style patterns, the form Zoho's `format` key takes (`yyyy/MM/dd`,
 * `dd-MM-yyyy HH:mm:ss`; reference §9.6). A pattern compiles once to a matcher.
 */
export interface ParsedDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Minutes east of UTC when the text carried an offset, else null (the org's zone applies). */
  readonly offsetMinutes: number | null;
}

type Part = 'year' | 'year2' | 'month' | 'day' | 'hour' | 'hour12' | 'minute' | 'second' | 'millis' | 'ampm' | 'offset' | 'monthName';

interface CompiledPattern {
  readonly regex: RegExp;
  readonly parts: readonly Part[];
  readonly hasDate: boolean;
  readonly hasTime: boolean;
}

const TOKENS: readonly [string, Part, string][] = [
  ['yyyy', 'year', '(\\d{4})'],
  ['yy', 'year2', '(\\d{2})'],
  ['MMMM', 'monthName', '([A-Za-z]+)'],
  ['MMM', 'monthName', '([A-Za-z]{3})'],
  // Like SimpleDateFormat's parser, MM or dd also take one digit (Excel writes US dates as M/d/yyyy);
  // greedy matching keeps yyyyMMdd unambiguous.
  ['MM', 'month', '(\\d{1,2})'],
  ['M', 'month', '(\\d{1,2})'],
  ['dd', 'day', '(\\d{1,2})'],
  ['d', 'day', '(\\d{1,2})'],
  ['HH', 'hour', '(\\d{1,2})'],
  ['H', 'hour', '(\\d{1,2})'],
  ['hh', 'hour12', '(\\d{1,2})'],
  ['h', 'hour12', '(\\d{1,2})'],
  ['mm', 'minute', '(\\d{1,2})'],
  ['ss', 'second', '(\\d{1,2})'],
  ['SSS', 'millis', '(\\d{3})'],
  ['a', 'ampm', '([AaPp][Mm])'],
  ['XXX', 'offset', '(Z|[+-]\\d{2}:\\d{2})'],
  ['Z', 'offset', '([+-]\\d{4})'],
];

const cache = new Map<string, CompiledPattern | null>();

/** Compiles a pattern; null when it has unknown letters or neither a full date nor a time. */
export function compileDatePattern(pattern: string): CompiledPattern | null {
  if (cache.has(pattern)) return cache.get(pattern) ?? null;
  const compiled = compile(pattern);
  cache.set(pattern, compiled);
  return compiled;
}

function compile(pattern: string): CompiledPattern | null {
  let regex = '^';
  const parts: Part[] = [];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i] as string;
    if (ch === "'") {
      // '' is a quote, in or out of a quoted literal (SimpleDateFormat).
      if (pattern[i + 1] === "'") {
        regex += "'";
        i += 2;
        continue;
      }
      let literal = '';
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) return null;
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            literal += "'";
            j += 2;
            continue;
          }
          break;
        }
        literal += pattern[j];
        j++;
      }
      regex += escapeRegex(literal);
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      const token = TOKENS.find(([t]) => pattern.startsWith(t, i) && pattern[i + t.length] !== ch);
      if (!token) return null;
      regex += token[2];
      parts.push(token[1]);
      i += token[0].length;
      continue;
    }
    regex += escapeRegex(ch);
    i += 1;
  }
  const hasDate = parts.includes('day') && (parts.includes('month') || parts.includes('monthName')) &&
    (parts.includes('year') || parts.includes('year2'));
  const hasTime = parts.includes('hour') || parts.includes('hour12');
  if (!hasDate && !hasTime) return null;
  if (parts.includes('hour12') && !parts.includes('ampm')) return null;
  return { regex: new RegExp(`${regex}$`), parts, hasDate, hasTime };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export function parseWithPattern(text: string, pattern: CompiledPattern): ParsedDateTime | null {
  const m = pattern.regex.exec(text);
  if (!m) return null;
  const v = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, offsetMinutes: null as number | null };
  let pm: boolean | null = null;
  let hour12: number | null = null;
  for (let p = 0; p < pattern.parts.length; p++) {
    const raw = m[p + 1] as string;
    switch (pattern.parts[p]) {
      case 'year': v.year = Number(raw); break;
      case 'year2': v.year = pivotYear(Number(raw)); break;
      case 'month': v.month = Number(raw); break;
      case 'monthName': {
        const idx = MONTHS.indexOf(raw.slice(0, 3).toLowerCase());
        if (idx < 0) return null;
        v.month = idx + 1;
        break;
      }
      case 'day': v.day = Number(raw); break;
      case 'hour': v.hour = Number(raw); break;
      case 'hour12': hour12 = Number(raw); break;
      case 'minute': v.minute = Number(raw); break;
      case 'second': v.second = Number(raw); break;
      case 'millis': break;
      case 'ampm': pm = raw.toLowerCase() === 'pm'; break;
      case 'offset': v.offsetMinutes = parseOffset(raw); break;
    }
  }
  if (hour12 !== null) {
    if (hour12 < 1 || hour12 > 12) return null;
    v.hour = (hour12 % 12) + (pm ? 12 : 0);
  }
  return isValidDateTime(v) ? v : null;
}

/** SimpleDateFormat's rule for yy: the year within 80 years before and 20 after now. */
function pivotYear(yy: number): number {
  const now = new Date().getUTCFullYear();
  const year = Math.floor((now - 80) / 100) * 100 + yy;
  return year < now - 80 ? year + 100 : year;
}

function parseOffset(raw: string): number {
  if (raw === 'Z') return 0;
  const sign = raw.startsWith('-') ? -1 : 1;
  const digits = raw.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

function isValidDateTime(v: ParsedDateTime): boolean {
  return isValidDate(v.year, v.month, v.day) && v.hour < 24 && v.minute < 60 && v.second < 60;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Proleptic Gregorian calendar (year 0 is a leap year), as java.time and ISO 8601 count. */
export function isValidDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number));
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
