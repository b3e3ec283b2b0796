import { describe, expect } from 'vitest';
import { detectDelimiter } from '../../src/ingest/delimiter.js';
import { eachCase } from './case-table.js';

describe('detectDelimiter', () => {
  eachCase([
    { spec: 'detects a comma', text: 'Last_Name,Email,Mobile\r\nBoyle,p@zylker.com,555\r\n', expected: ',' },
    { spec: 'detects a semicolon', text: 'Last_Name;Email;Mobile\r\nBoyle;p@zylker.com;555\r\n', expected: ';' },
    { spec: 'detects a colon', text: 'Last_Name:Email:Mobile\nBoyle:p@zylker.com:555\n', expected: ':' },
    { spec: 'detects a pipe', text: 'Last_Name|Email|Mobile\nBoyle|p@zylker.com|555\n', expected: '|' },
    { spec: 'ignores commas inside a quoted header', text: '"Name, Full";Email;Phone\n', expected: ';' },
    { spec: 'ignores semicolons inside a quoted header', text: '"a;b;c",d\n', expected: ',' },
    { spec: 'ignores pipes inside quotes around escaped quotes', text: '"He said ""a|b|c""",x\n', expected: ',' },
    { spec: 'reads a quoted line break as part of the header', text: '"Last\nName";Email;Phone\na,b,c,d,e\n', expected: ';' },
    { spec: 'looks only at the header line', text: 'Name|Email\na,b,c,d\n', expected: '|' },
    { spec: 'stops at a carriage return', text: 'Name|Email\rx,y,z\r', expected: '|' },
    { spec: 'prefers the most frequent delimiter', text: 'Meeting_Time:Start,Last_Name,Email\n', expected: ',' },
    { spec: 'prefers a comma on a tie with it', text: 'a,b;c\n', expected: ',' },
    { spec: 'prefers the earlier of , ; : | on a tie without a comma', text: 'a|b;c\n', expected: ';' },
    { spec: 'falls back to a comma for one column', text: 'Last_Name\nBoyle\n', expected: ',' },
    { spec: 'falls back to a comma for an empty text', text: '', expected: ',' },
    { spec: 'does not take a tab', text: 'a\tb\tc\n', expected: ',' },
  ], ({ text, expected }) => {
    expect(detectDelimiter(text)).toBe(expected);
  });
});
