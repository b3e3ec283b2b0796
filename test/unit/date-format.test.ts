import { describe, expect, it } from 'vitest';
import { compileDatePattern, parseWithPattern, type ParsedDateTime } from '../../src/domain/date-format.js';
import { eachCase } from './case-table.js';

function at(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, offsetMinutes: number | null = null): ParsedDateTime {
  return { year, month, day, hour, minute, second, offsetMinutes };
}

function parse(text: string, pattern: string): ParsedDateTime | null {
  const compiled = compileDatePattern(pattern);
  if (!compiled) throw new Error(`test setup: pattern ${pattern} does not compile`);
  return parseWithPattern(text, compiled);
}

describe('compileDatePattern', () => {
  eachCase([
    { pattern: 'yyyy/MM/dd', parts: ['year', 'month', 'day'], hasDate: true, hasTime: false },
    { pattern: 'dd-MM-yyyy HH:mm:ss', parts: ['day', 'month', 'year', 'hour', 'minute', 'second'], hasDate: true, hasTime: true },
    { pattern: 'MM/dd/yyyy hh:mm a', parts: ['month', 'day', 'year', 'hour12', 'minute', 'ampm'], hasDate: true, hasTime: true },
    { pattern: "yyyy-MM-dd'T'HH:mm:ssXXX", parts: ['year', 'month', 'day', 'hour', 'minute', 'second', 'offset'], hasDate: true, hasTime: true },
    { pattern: 'MMM d, yy', parts: ['monthName', 'day', 'year2'], hasDate: true, hasTime: false },
    { pattern: 'HH:mm', parts: ['hour', 'minute'], hasDate: false, hasTime: true },
  ], (r) => `compiles ${r.pattern} into its parts`, ({ pattern, parts, hasDate, hasTime }) => {
    const compiled = compileDatePattern(pattern);
    expect(compiled && { parts: compiled.parts, hasDate: compiled.hasDate, hasTime: compiled.hasTime }).toEqual({ parts, hasDate, hasTime });
  });

  eachCase([
    { spec: 'refuses an unknown letter', pattern: 'E, dd MMM yyyy' },
    { spec: 'refuses an unquoted literal letter', pattern: 'yyyy-MM-ddTHH:mm:ss' },
    { spec: 'refuses an unterminated quote', pattern: "yyyy-MM-dd'T" },
    { spec: 'refuses three y', pattern: 'yyy-MM-dd' },
    { spec: 'refuses a single m', pattern: 'HH:m' },
    { spec: 'refuses a single s', pattern: 'HH:mm:s' },
    { spec: 'refuses two S', pattern: 'HH:mm:ss.SS' },
    { spec: 'refuses a pattern without day', pattern: 'yyyy-MM' },
    { spec: 'refuses a pattern without year and time', pattern: 'MM/dd' },
    { spec: 'refuses hh without a', pattern: 'MM/dd/yyyy hh:mm' },
    { spec: 'refuses an empty pattern', pattern: '' },
    { spec: 'refuses punctuation only', pattern: '//' },
  ], (r) => `${r.spec}: ${r.pattern}`, ({ pattern }) => {
    expect(compileDatePattern(pattern)).toBeNull();
  });

  it('returns the same compiled pattern for the same text', () => {
    expect(compileDatePattern('dd.MM.yyyy')).toBe(compileDatePattern('dd.MM.yyyy'));
  });
});

describe('parseWithPattern', () => {
  eachCase([
    { spec: 'reads yyyy/MM/dd', text: '2024/02/29', pattern: 'yyyy/MM/dd', expected: at(2024, 2, 29) },
    { spec: 'reads dd-MM-yyyy HH:mm:ss', text: '31-12-2024 23:59:59', pattern: 'dd-MM-yyyy HH:mm:ss', expected: at(2024, 12, 31, 23, 59, 59) },
    { spec: 'reads 12 AM as hour 0', text: '07/04/2024 12:05 AM', pattern: 'MM/dd/yyyy hh:mm a', expected: at(2024, 7, 4, 0, 5) },
    { spec: 'reads 12 PM as hour 12', text: '07/04/2024 12:05 PM', pattern: 'MM/dd/yyyy hh:mm a', expected: at(2024, 7, 4, 12, 5) },
    { spec: 'reads 01 pm as hour 13', text: '07/04/2024 01:05 pm', pattern: 'MM/dd/yyyy hh:mm a', expected: at(2024, 7, 4, 13, 5) },
    { spec: 'reads 11 am as hour 11', text: '07/04/2024 11:05 am', pattern: 'MM/dd/yyyy hh:mm a', expected: at(2024, 7, 4, 11, 5) },
    { spec: "reads a quoted 'T'", text: '2021-05-11T12:38:29', pattern: "yyyy-MM-dd'T'HH:mm:ss", expected: at(2021, 5, 11, 12, 38, 29) },
    { spec: 'reads a quoted word', text: '11-05-2021 at 12:38', pattern: "dd-MM-yyyy 'at' HH:mm", expected: at(2021, 5, 11, 12, 38) },
    { spec: "reads '' as one quote", text: "11-05-2021 12'38", pattern: "dd-MM-yyyy HH''mm", expected: at(2021, 5, 11, 12, 38) },
    { spec: 'reads an XXX offset east of UTC', text: '2021-05-11T12:38:29+05:30', pattern: "yyyy-MM-dd'T'HH:mm:ssXXX", expected: at(2021, 5, 11, 12, 38, 29, 330) },
    { spec: 'reads an XXX offset west of UTC', text: '2024-07-01T08:00:00-04:00', pattern: "yyyy-MM-dd'T'HH:mm:ssXXX", expected: at(2024, 7, 1, 8, 0, 0, -240) },
    { spec: 'reads Z as offset 0 under XXX', text: '2021-05-11T07:08:29Z', pattern: "yyyy-MM-dd'T'HH:mm:ssXXX", expected: at(2021, 5, 11, 7, 8, 29, 0) },
    { spec: 'reads a Z offset without colon', text: '2021-05-11 12:38:29 +0545', pattern: 'yyyy-MM-dd HH:mm:ss Z', expected: at(2021, 5, 11, 12, 38, 29, 345) },
    { spec: 'reads and drops milliseconds', text: '2021-05-11T12:38:29.123', pattern: "yyyy-MM-dd'T'HH:mm:ss.SSS", expected: at(2021, 5, 11, 12, 38, 29) },
    { spec: 'reads one-digit month and day under M/d', text: '7/4/2024', pattern: 'M/d/yyyy', expected: at(2024, 7, 4) },
    { spec: 'reads two-digit month and day under M/d', text: '07/04/2024', pattern: 'M/d/yyyy', expected: at(2024, 7, 4) },
    { spec: 'reads a short month name in any case', text: 'FEB 29, 2024', pattern: 'MMM dd, yyyy', expected: at(2024, 2, 29) },
    { spec: 'reads a full month name', text: 'September 5, 2024', pattern: 'MMMM d, yyyy', expected: at(2024, 9, 5) },
    { spec: 'reads a two-digit year in the 2000s', text: '11/05/21', pattern: 'dd/MM/yy', expected: at(2021, 5, 11) },
    { spec: 'reads a time alone on 1 January 1970', text: '23:15', pattern: 'HH:mm', expected: at(1970, 1, 1, 23, 15) },
  ], ({ text, pattern, expected }) => {
    expect(parse(text, pattern)).toEqual(expected);
  });

  eachCase([
    { spec: 'rejects 02/30/2024', text: '02/30/2024', pattern: 'MM/dd/yyyy' },
    { spec: 'rejects 29 February in a common year', text: '02/29/2023', pattern: 'MM/dd/yyyy' },
    { spec: 'rejects 31 April', text: '04/31/2024', pattern: 'MM/dd/yyyy' },
    { spec: 'rejects day 0', text: '04/00/2024', pattern: 'MM/dd/yyyy' },
    { spec: 'rejects month 0', text: '00/10/2024', pattern: 'MM/dd/yyyy' },
    { spec: 'rejects month 13', text: '13/01/2024', pattern: 'MM/dd/yyyy' },
    { spec: 'rejects hour 24', text: '31-12-2024 24:00:00', pattern: 'dd-MM-yyyy HH:mm:ss' },
    { spec: 'rejects minute 60', text: '31-12-2024 23:60:00', pattern: 'dd-MM-yyyy HH:mm:ss' },
    { spec: 'rejects second 60', text: '31-12-2024 23:59:60', pattern: 'dd-MM-yyyy HH:mm:ss' },
    { spec: 'rejects hh 13 with PM', text: '07/04/2024 13:05 PM', pattern: 'MM/dd/yyyy hh:mm a' },
    { spec: 'rejects hh 00 with AM', text: '07/04/2024 00:05 AM', pattern: 'MM/dd/yyyy hh:mm a' },
    { spec: 'rejects an unknown month name', text: 'Foo 29, 2024', pattern: 'MMM dd, yyyy' },
    { spec: 'rejects a three-digit month under MM', text: '007/04/2024', pattern: 'MM/dd/yyyy' },
    { spec: 'rejects text before the date', text: 'x2024-01-01', pattern: 'yyyy-MM-dd' },
    { spec: 'rejects text after the date', text: '2024-01-01 ', pattern: 'yyyy-MM-dd' },
    { spec: 'treats a dot in the pattern as a literal dot', text: '11x05x2021', pattern: 'dd.MM.yyyy' },
    { spec: "requires the quoted 'T'", text: '2021-05-11 12:38:29', pattern: "yyyy-MM-dd'T'HH:mm:ss" },
    { spec: 'rejects an offset without colon under XXX', text: '2021-05-11T12:38:29+0530', pattern: "yyyy-MM-dd'T'HH:mm:ssXXX" },
    { spec: 'rejects a missing offset under XXX', text: '2021-05-11T12:38:29', pattern: "yyyy-MM-dd'T'HH:mm:ssXXX" },
  ], ({ text, pattern }) => {
    expect(parse(text, pattern)).toBeNull();
  });

  it("reads '' inside a quoted literal as a quote", () => {
    expect(parse("12 o'clock PM", "hh 'o''clock' a")).toEqual(at(1970, 1, 1, 12, 0));
  });
});
