import { describe, expect, it } from 'vitest';
import { coerceValue, isUsableFormat, type Coerced, type CoercionContext } from '../../src/domain/coercion.js';
import type { DataType, FieldDef } from '../../src/domain/metadata.js';
import { eachCase } from './case-table.js';
import { field } from './metadata-builders.js';

const KOLKATA: CoercionContext = { timeZone: 'Asia/Kolkata', format: null };
const UTC: CoercionContext = { timeZone: 'UTC', format: null };
const NEW_YORK: CoercionContext = { timeZone: 'America/New_York', format: null };

const accepted = (value: string | number | boolean): Coerced => ({ ok: true, value });
const refused = (reason: string): Coerced => ({ ok: false, reason });

interface Case {
  readonly spec: string;
  readonly field: FieldDef;
  readonly raw: string;
  readonly ctx?: CoercionContext;
  readonly expected: Coerced;
}

const of = (dataType: DataType, overrides: Partial<FieldDef> = {}): FieldDef => field(`A_${dataType}`, dataType, overrides);
const withFormat = (format: string, timeZone = 'Asia/Kolkata'): CoercionContext => ({ timeZone, format });

function runCases(cases: readonly Case[]): void {
  eachCase(cases, ({ field: f, raw, ctx, expected }) => {
    expect(coerceValue(f, raw, ctx ?? KOLKATA)).toEqual(expected);
  });
}

describe('coerceValue for text and textarea', () => {
  runCases([
    { spec: 'keeps text within the field length', field: of('text', { length: 5 }), raw: 'Boyle', expected: accepted('Boyle') },
    { spec: 'rejects text one character over the field length', field: of('text', { length: 5 }), raw: 'Boyles', expected: refused('longer than 5 characters') },
    { spec: 'keeps the spaces around text as given', field: of('text', { length: 10 }), raw: '  Boyle  ', expected: accepted('  Boyle  ') },
    { spec: 'counts characters, not UTF-16 code units', field: of('text', { length: 7 }), raw: 'Müller😀', expected: accepted('Müller😀') },
    { spec: 'accepts any length when the field has none', field: of('text'), raw: 'x'.repeat(40_000), expected: accepted('x'.repeat(40_000)) },
    { spec: 'applies the length of a textarea', field: of('textarea', { length: 3 }), raw: 'four', expected: refused('longer than 3 characters') },
    { spec: 'keeps line breaks of a textarea', field: of('textarea', { length: 2000 }), raw: 'line 1\nline 2', expected: accepted('line 1\nline 2') },
  ]);
});

describe('coerceValue for a cell holding U+0000', () => {
  runCases([
    { spec: 'refuses text holding a NUL', field: of('text'), raw: 'a\u0000b', expected: refused('contains a NUL character') },
    { spec: 'refuses an email holding a NUL, which the pattern alone would take', field: of('email'), raw: 'a\u0000@b.io', expected: refused('contains a NUL character') },
    { spec: 'refuses a picklist value holding a NUL', field: of('picklist'), raw: '\u0000', expected: refused('contains a NUL character') },
    { spec: 'refuses a lookup key holding a NUL', field: of('lookup'), raw: 'Acme\u0000', expected: refused('contains a NUL character') },
  ]);
});

describe('coerceValue for email', () => {
  const email = of('email', { length: 100 });
  runCases([
    { spec: 'accepts a plain address', field: email, raw: 'patricia.boyle@zylker.com', expected: accepted('patricia.boyle@zylker.com') },
    { spec: 'accepts a sub-domain address', field: email, raw: 'p+crm@mail.zylker.co.uk', expected: accepted('p+crm@mail.zylker.co.uk') },
    { spec: 'trims the spaces around an address', field: email, raw: '  boyle@zylker.com ', expected: accepted('boyle@zylker.com') },
    { spec: 'rejects an email without a domain', field: email, raw: 'boyle@', expected: refused('not a valid email address') },
    { spec: 'rejects an email whose domain has no dot', field: email, raw: 'boyle@zylker', expected: refused('not a valid email address') },
    { spec: 'rejects an email without an @', field: email, raw: 'boyle.zylker.com', expected: refused('not a valid email address') },
    { spec: 'rejects an email with two @', field: email, raw: 'boyle@@zylker.com', expected: refused('not a valid email address') },
    { spec: 'rejects an email with a space inside', field: email, raw: 'pat boyle@zylker.com', expected: refused('not a valid email address') },
    { spec: 'rejects an email with an empty domain label', field: email, raw: 'boyle@zylker..com', expected: refused('not a valid email address') },
    { spec: 'rejects an email without a local part', field: email, raw: '@zylker.com', expected: refused('not a valid email address') },
    { spec: 'rejects a valid email longer than the field', field: of('email', { length: 10 }), raw: 'boyle@zylker.com', expected: refused('longer than 10 characters') },
  ]);
});

describe('coerceValue for phone', () => {
  const phone = of('phone', { length: 30 });
  runCases([
    { spec: 'accepts an international number with punctuation', field: phone, raw: '+1 (555) 010-2030', expected: accepted('+1 (555) 010-2030') },
    { spec: 'accepts a dotted number with an extension', field: phone, raw: '555.010.2030 x12', expected: accepted('555.010.2030 x12') },
    { spec: 'trims the spaces around a number', field: phone, raw: ' +91 98450 12345 ', expected: accepted('+91 98450 12345') },
    { spec: 'rejects letters', field: phone, raw: 'call me', expected: refused('not a phone number') },
    { spec: 'rejects punctuation without any digit', field: phone, raw: '+-() .', expected: refused('not a phone number') },
    { spec: 'rejects a number longer than the field', field: of('phone', { length: 10 }), raw: '+1 555 010 2030', expected: refused('longer than 10 characters') },
  ]);
});

describe('coerceValue for website', () => {
  const website = of('website', { length: 255 });
  runCases([
    { spec: 'accepts a bare host name', field: website, raw: 'www.zylker.com', expected: accepted('www.zylker.com') },
    { spec: 'accepts an https URL with path and query', field: website, raw: 'https://www.zylker.com/crm?tab=leads', expected: accepted('https://www.zylker.com/crm?tab=leads') },
    { spec: 'accepts an http URL with a port', field: website, raw: 'http://zylker.com:8080/path', expected: accepted('http://zylker.com:8080/path') },
    { spec: 'rejects a single word', field: website, raw: 'zylker', expected: refused('not a website address') },
    { spec: 'rejects an ftp URL', field: website, raw: 'ftp://zylker.com', expected: refused('not a website address') },
    { spec: 'rejects a host with a space', field: website, raw: 'https://zylker .com', expected: refused('not a website address') },
    { spec: 'rejects an address longer than the field', field: of('website', { length: 10 }), raw: 'www.zylker.com', expected: refused('longer than 10 characters') },
  ]);
});

describe('coerceValue for integer and bigint', () => {
  const integer = of('integer');
  const bigint = of('bigint');
  runCases([
    { spec: 'reads a whole number', field: integer, raw: '42', expected: accepted(42) },
    { spec: 'reads a negative whole number', field: integer, raw: '-42', expected: accepted(-42) },
    { spec: 'reads an explicit plus sign', field: integer, raw: '+42', expected: accepted(42) },
    { spec: 'drops thousands separators', field: integer, raw: '1,234', expected: accepted(1234) },
    { spec: 'drops leading zeros', field: integer, raw: '007', expected: accepted(7) },
    { spec: 'accepts nine digits by default', field: integer, raw: '123456789', expected: accepted(123456789) },
    { spec: 'rejects ten digits by default', field: integer, raw: '1234567890', expected: refused('more than 9 digits') },
    { spec: 'does not count leading zeros as digits', field: integer, raw: '0000000001', expected: accepted(1) },
    { spec: 'reads zero', field: integer, raw: '0', expected: accepted(0) },
    { spec: 'reads a bigint beyond the safe integers as text', field: bigint, raw: '9007199254740993', expected: accepted('9007199254740993') },
    { spec: 'reads a bigint of fifteen digits as a number', field: bigint, raw: '123456789012345', expected: accepted(123456789012345) },
    { spec: 'applies the field length as the digit limit', field: of('integer', { length: 4 }), raw: '12345', expected: refused('more than 4 digits') },
    { spec: 'rejects a decimal in an integer field', field: integer, raw: '4.2', expected: refused('not a whole number') },
    { spec: 'rejects exponent notation', field: integer, raw: '1e3', expected: refused('not a whole number') },
    { spec: 'rejects words', field: integer, raw: 'forty', expected: refused('not a whole number') },
    { spec: 'keeps a safe bigint as a number', field: bigint, raw: '9007199254740991', expected: accepted(9007199254740991) },
    { spec: 'keeps an unsafe bigint exactly, as a digit string', field: bigint, raw: '9007199254740993', expected: accepted('9007199254740993') },
    { spec: 'keeps a negative unsafe bigint exactly', field: bigint, raw: '-9007199254740993', expected: accepted('-9007199254740993') },
    { spec: 'accepts eighteen bigint digits by default', field: bigint, raw: '123456789012345678', expected: accepted('123456789012345678') },
    { spec: 'rejects nineteen bigint digits by default', field: bigint, raw: '1234567890123456789', expected: refused('more than 18 digits') },
  ]);
});

describe('coerceValue for double, percent and currency', () => {
  const double = of('double');
  runCases([
    { spec: 'reads a decimal', field: double, raw: '3.14', expected: accepted(3.14) },
    { spec: 'reads a negative decimal', field: double, raw: '-0.5', expected: accepted(-0.5) },
    { spec: 'reads a decimal without integer digits', field: double, raw: '.5', expected: accepted(0.5) },
    { spec: 'reads a decimal with a trailing point', field: double, raw: '5.', expected: accepted(5) },
    { spec: 'drops thousands separators in a decimal', field: double, raw: '1,234.50', expected: accepted(1234.5) },
    { spec: 'rejects exponent notation in a decimal', field: double, raw: '1e3', expected: refused('not a number') },
    { spec: 'rejects words in a decimal', field: double, raw: 'pi', expected: refused('not a number') },
    { spec: 'rejects seventeen digits before the point', field: double, raw: '12345678901234567', expected: refused('more than 16 digits before the point') },
    { spec: 'does not count leading zeros before the point', field: double, raw: '00000000000000000001.5', expected: accepted(1.5) },
    { spec: 'reads a percent as a plain number', field: of('percent'), raw: '12.5', expected: accepted(12.5) },
    { spec: 'rejects a percent sign', field: of('percent'), raw: '12%', expected: refused('not a number') },
    { spec: 'reads a currency amount', field: of('currency', { length: 16 }), raw: '25,000.75', expected: accepted(25000.75) },
    { spec: 'applies the currency length to the digits before the point', field: of('currency', { length: 5 }), raw: '123456.78', expected: refused('more than 5 digits before the point') },
    { spec: 'accepts a currency amount at its length', field: of('currency', { length: 5 }), raw: '12345.678', expected: accepted(12345.678) },
  ]);
});

describe('coerceValue for boolean', () => {
  const boolean = of('boolean');
  runCases([
    ...['true', 'TRUE', ' True ', '1', 'yes', 'Yes'].map((raw) => ({ spec: `reads ${JSON.stringify(raw)} as true`, field: boolean, raw, expected: accepted(true) })),
    ...['false', 'False', '0', 'no', 'NO'].map((raw) => ({ spec: `reads ${JSON.stringify(raw)} as false`, field: boolean, raw, expected: accepted(false) })),
    ...['y', 'on', '2', 'checked'].map((raw) => ({ spec: `rejects ${JSON.stringify(raw)}`, field: boolean, raw, expected: refused('not true or false') })),
  ]);
});

describe('coerceValue for date', () => {
  const date = of('date');
  const defaultMiss = refused('not a date in the format MM/dd/yyyy or yyyy-MM-dd');
  runCases([
    { spec: 'reads the default MM/dd/yyyy', field: date, raw: '05/11/2021', expected: accepted('2021-05-11') },
    { spec: 'reads the default yyyy-MM-dd', field: date, raw: '2021-05-11', expected: accepted('2021-05-11') },
    { spec: 'trims the spaces around a date', field: date, raw: ' 05/11/2021 ', expected: accepted('2021-05-11') },
    { spec: 'accepts the 29th of February in a leap year', field: date, raw: '02/29/2024', expected: accepted('2024-02-29') },
    { spec: 'rejects the 29th of February in a common year', field: date, raw: '02/29/2023', expected: defaultMiss },
    { spec: 'rejects the 30th of February', field: date, raw: '02/30/2024', expected: defaultMiss },
    { spec: 'rejects month 13', field: date, raw: '13/01/2024', expected: defaultMiss },
    { spec: 'rejects a pattern that is not a default without format', field: date, raw: '2021/05/11', expected: defaultMiss },
    { spec: 'accepts the 29th of February of a leap year in yyyy-MM-dd', field: date, raw: '2024-02-29', expected: accepted('2024-02-29') },
    { spec: 'rejects the 29th of February of a century year not divisible by 400', field: date, raw: '1900-02-29', expected: defaultMiss },
    { spec: 'accepts the 29th of February of a year divisible by 400', field: date, raw: '2000-02-29', expected: accepted('2000-02-29') },
    { spec: 'rejects day 31 of a 30-day month in yyyy-MM-dd', field: date, raw: '2024-04-31', expected: defaultMiss },
    { spec: 'rejects month 00 in yyyy-MM-dd', field: date, raw: '2024-00-10', expected: defaultMiss },
    { spec: 'rejects a letter among the digits of yyyy-MM-dd', field: date, raw: '2024-0a-10', expected: defaultMiss },
    { spec: 'reads single-digit month and day under yyyy-MM-dd', field: date, raw: '2024-5-1', expected: accepted('2024-05-01') },
    { spec: 'reads single-digit month and day under MM/dd/yyyy, as Excel writes US dates', field: date, raw: '5/1/2021', expected: accepted('2021-05-01') },
    { spec: 'reads yyyy/MM/dd when given as format', field: date, raw: '2021/05/11', ctx: withFormat('yyyy/MM/dd'), expected: accepted('2021-05-11') },
    { spec: 'reads dd-MM-yyyy when given as format', field: date, raw: '31-12-2024', ctx: withFormat('dd-MM-yyyy'), expected: accepted('2024-12-31') },
    { spec: 'reads dd.MM.yyyy when given as format', field: date, raw: '11.05.2021', ctx: withFormat('dd.MM.yyyy'), expected: accepted('2021-05-11') },
    { spec: 'reads a month name when given as format', field: date, raw: 'May 11, 2021', ctx: withFormat('MMM dd, yyyy'), expected: accepted('2021-05-11') },
    {
      spec: 'no longer takes the defaults once a format is given',
      field: date,
      raw: '2024-12-31',
      ctx: withFormat('dd-MM-yyyy'),
      expected: refused('not a date in the format dd-MM-yyyy'),
    },
  ]);
});

describe('coerceValue for datetime', () => {
  const datetime = of('datetime');
  const defaultMiss = refused('not a date-time in the format MM/dd/yyyy HH:mm:ss');
  runCases([
    { spec: 'reads the default MM/dd/yyyy HH:mm:ss as wall time of the org zone', field: datetime, raw: '05/11/2021 12:38:29', expected: accepted('2021-05-11T12:38:29+05:30') },
    { spec: 'writes the same wall time with a +00:00 offset in a UTC org', field: datetime, raw: '05/11/2021 12:38:29', ctx: UTC, expected: accepted('2021-05-11T12:38:29+00:00') },
    { spec: 'reads ISO-8601 with an offset', field: datetime, raw: '2021-05-11T12:38:29+05:30', expected: accepted('2021-05-11T12:38:29+05:30') },
    { spec: 'refuses a year before 1000 rather than store another century', field: datetime, raw: '0050-01-15T10:00:00+00:00', expected: refused('not a date-time from the year 1000 on') },
    { spec: 'reads the year 1000', field: datetime, raw: '1000-01-15T10:00:00+00:00', ctx: UTC, expected: accepted('1000-01-15T10:00:00+00:00') },
    { spec: 'converts ISO-8601 in Z to the org zone', field: datetime, raw: '2021-05-11T07:08:29Z', expected: accepted('2021-05-11T12:38:29+05:30') },
    { spec: 'converts another offset to the org zone', field: datetime, raw: '2021-05-11T03:08:29-04:00', expected: accepted('2021-05-11T12:38:29+05:30') },
    { spec: 'drops milliseconds of ISO-8601', field: datetime, raw: '2021-05-11T07:08:29.999Z', expected: accepted('2021-05-11T12:38:29+05:30') },
    { spec: 'reads ISO-8601 without offset as wall time of the org zone', field: datetime, raw: '2021-05-11T12:38:29', expected: accepted('2021-05-11T12:38:29+05:30') },
    { spec: 'reads yyyy-MM-dd HH:mm:ss as wall time of the org zone', field: datetime, raw: '2021-05-11 12:38:29', expected: accepted('2021-05-11T12:38:29+05:30') },
    { spec: 'uses the winter offset of New York in January', field: datetime, raw: '01/15/2024 12:00:00', ctx: NEW_YORK, expected: accepted('2024-01-15T12:00:00-05:00') },
    { spec: 'uses the summer offset of New York in July', field: datetime, raw: '07/01/2024 12:00:00', ctx: NEW_YORK, expected: accepted('2024-07-01T12:00:00-04:00') },
    { spec: 'writes a Z time in New York wall time', field: datetime, raw: '2024-01-15T12:00:00Z', ctx: NEW_YORK, expected: accepted('2024-01-15T07:00:00-05:00') },
    { spec: 'rejects a date without a time', field: datetime, raw: '05/11/2021', expected: defaultMiss },
    { spec: 'rejects hour 25', field: datetime, raw: '05/11/2021 25:00:00', expected: defaultMiss },
    { spec: 'rejects an offset without a colon', field: datetime, raw: '2021-05-11T12:38:29+0530', expected: defaultMiss },
    { spec: 'reads dd-MM-yyyy HH:mm:ss when given as format', field: datetime, raw: '11-05-2021 12:38:29', ctx: withFormat('dd-MM-yyyy HH:mm:ss'), expected: accepted('2021-05-11T12:38:29+05:30') },
    { spec: 'reads 12 PM as noon', field: datetime, raw: '05/11/2021 12:38 PM', ctx: withFormat('MM/dd/yyyy hh:mm a'), expected: accepted('2021-05-11T12:38:00+05:30') },
    { spec: 'reads 12 AM as midnight', field: datetime, raw: '05/11/2021 12:38 AM', ctx: withFormat('MM/dd/yyyy hh:mm a'), expected: accepted('2021-05-11T00:38:00+05:30') },
    {
      spec: 'names the given format when a value does not match it',
      field: datetime,
      raw: '2021-05-11 12:38:29',
      ctx: withFormat('dd-MM-yyyy HH:mm:ss'),
      expected: refused('not a date-time in the format dd-MM-yyyy HH:mm:ss'),
    },
  ]);
});

describe('coerceValue for picklists', () => {
  const leadSource = of('picklist', { picklistValues: ['-None-', 'Cold Call', 'Trade Show'] });
  const interests = of('multiselectpicklist', { picklistValues: ['Analytics', 'Bigdata'] });
  runCases([
    { spec: 'keeps a listed picklist value', field: leadSource, raw: 'Cold Call', expected: accepted('Cold Call') },
    { spec: 'trims the spaces around a picklist value', field: leadSource, raw: ' Cold Call ', expected: accepted('Cold Call') },
    { spec: 'keeps a picklist value that is not listed yet (Zoho adds it)', field: leadSource, raw: 'Webinar', expected: accepted('Webinar') },
    { spec: 'accepts a picklist value of 120 characters by default', field: leadSource, raw: 'p'.repeat(120), expected: accepted('p'.repeat(120)) },
    { spec: 'rejects a picklist value of 121 characters by default', field: leadSource, raw: 'p'.repeat(121), expected: refused('longer than 120 characters') },
    { spec: 'keeps multi-select values joined by semicolons', field: interests, raw: 'Analytics;Bigdata', expected: accepted('Analytics;Bigdata') },
    { spec: 'trims each multi-select value', field: interests, raw: ' Analytics ; Bigdata ', expected: accepted('Analytics;Bigdata') },
    { spec: 'drops empty multi-select values', field: interests, raw: 'Analytics;;Bigdata;', expected: accepted('Analytics;Bigdata') },
    { spec: 'rejects a multi-select cell of separators only', field: interests, raw: ';;', expected: refused('no values') },
  ]);

  it('names the field length when a picklist value is longer than it', () => {
    expect(coerceValue(of('picklist', { length: 10 }), 'Trade Shows', KOLKATA)).toEqual(refused('longer than 10 characters'));
  });
});

describe('coerceValue for lookups and read-only fields', () => {
  runCases([
    { spec: 'passes a lookup key through, trimmed', field: of('lookup', { lookupModule: 'Accounts' }), raw: ' 4150868000000225013 ', expected: accepted('4150868000000225013') },
    { spec: 'passes a lookup name through', field: of('lookup', { lookupModule: 'Accounts' }), raw: 'Zylker Inc', expected: accepted('Zylker Inc') },
    { spec: 'passes an owner email through', field: of('ownerlookup'), raw: 'patricia@zylker.com', expected: accepted('patricia@zylker.com') },
    { spec: 'passes a user id through', field: of('userlookup'), raw: '4150868000000225013', expected: accepted('4150868000000225013') },
    { spec: 'refuses any value for an autonumber', field: of('autonumber'), raw: 'LEAD-1', expected: refused('is read only') },
  ]);
});

describe('isUsableFormat', () => {
  const date = of('date');
  const datetime = of('datetime');
  eachCase([
    { spec: 'accepts yyyy/MM/dd for a date', f: date, format: 'yyyy/MM/dd', expected: true },
    { spec: 'accepts a date-time pattern for a date', f: date, format: 'dd-MM-yyyy HH:mm:ss', expected: true },
    { spec: 'refuses a time-only pattern for a date', f: date, format: 'HH:mm', expected: false },
    { spec: 'refuses a pattern without day for a date', f: date, format: 'yyyy-MM', expected: false },
    { spec: 'refuses unknown pattern letters', f: date, format: 'qqqq-MM-dd', expected: false },
    { spec: 'refuses an unterminated quote', f: date, format: "yyyy-MM-dd'T", expected: false },
    { spec: 'accepts dd-MM-yyyy HH:mm:ss for a date-time', f: datetime, format: 'dd-MM-yyyy HH:mm:ss', expected: true },
    { spec: 'accepts ISO-8601 with XXX for a date-time', f: datetime, format: "yyyy-MM-dd'T'HH:mm:ssXXX", expected: true },
    { spec: 'accepts hh with a for a date-time', f: datetime, format: 'MM/dd/yyyy hh:mm a', expected: true },
    { spec: 'refuses hh without a for a date-time', f: datetime, format: 'MM/dd/yyyy hh:mm', expected: false },
    { spec: 'refuses a date-only pattern for a date-time', f: datetime, format: 'yyyy/MM/dd', expected: false },
    { spec: 'refuses a time-only pattern for a date-time', f: datetime, format: 'HH:mm:ss', expected: false },
    { spec: 'refuses any format for a text field', f: of('text'), format: 'yyyy/MM/dd', expected: false },
    { spec: 'refuses any format for an integer field', f: of('integer'), format: 'yyyy/MM/dd', expected: false },
  ], ({ f, format, expected }) => {
    expect(isUsableFormat(f, format)).toBe(expected);
  });
});
