import { describe, expect, it } from 'vitest';
import { composeId, isIdString } from '../../src/domain/ids.js';
import { eachCase } from './case-table.js';

describe('composeId', () => {
  eachCase([
    { spec: 'puts the counter in the last twelve digits', prefix: 4150868, counter: 5350003n, expected: '4150868000005350003' },
    { spec: 'composes the smallest id', prefix: 1_000_000, counter: 0n, expected: '1000000000000000000' },
    { spec: 'composes the largest id', prefix: 8_999_999, counter: 999_999_999_999n, expected: '8999999999999999999' },
  ], ({ prefix, counter, expected }) => {
    expect(composeId(prefix, counter)).toBe(expected);
  });

  eachCase([
    { spec: 'refuses a six-digit prefix', prefix: 999_999, counter: 1n, message: 'id prefix 999999 must have 7 digits and stay below 9000000' },
    { spec: 'refuses a prefix of 9000000', prefix: 9_000_000, counter: 1n, message: 'id prefix 9000000 must have 7 digits and stay below 9000000' },
    { spec: 'refuses a fractional prefix', prefix: 4150868.5, counter: 1n, message: 'id prefix 4150868.5 must have 7 digits and stay below 9000000' },
    { spec: 'refuses a negative counter', prefix: 4150868, counter: -1n, message: 'id counter -1 out of range' },
    { spec: 'refuses a thirteen-digit counter', prefix: 4150868, counter: 1_000_000_000_000n, message: 'id counter 1000000000000 out of range' },
  ], ({ prefix, counter, message }) => {
    expect(() => composeId(prefix, counter)).toThrow(new RangeError(message));
  });
});

describe('isIdString', () => {
  eachCase([
    { spec: 'accepts a 19-digit Zoho id', value: '4150868000005350003', expected: true },
    { spec: 'accepts 15 digits', value: '415086800000535', expected: true },
    { spec: 'accepts 18 digits', value: '111111000000541958', expected: true },
    { spec: 'accepts 2^63 - 2', value: '9223372036854775806', expected: true },
    { spec: 'refuses 14 digits', value: '41508680000053', expected: false },
    { spec: 'refuses 20 digits', value: '41508680000053500031', expected: false },
    { spec: 'refuses a leading zero', value: '0415086800000535', expected: false },
    { spec: 'refuses 2^63', value: '9223372036854775808', expected: false },
    { spec: 'refuses the largest 19-digit number', value: '9999999999999999999', expected: false },
    { spec: 'refuses an empty string', value: '', expected: false },
    { spec: 'refuses a leading space', value: ' 4150868000005350003', expected: false },
    { spec: 'refuses a trailing newline', value: '4150868000005350003\n', expected: false },
    { spec: 'refuses a minus sign', value: '-415086800000535', expected: false },
    { spec: 'refuses a plus sign', value: '+415086800000535', expected: false },
    { spec: 'refuses a decimal point', value: '41508680000053500.3', expected: false },
    { spec: 'refuses exponent notation', value: '4.150868000005e18', expected: false },
  ], ({ value, expected }) => {
    expect(isIdString(value)).toBe(expected);
  });

  it('accepts 2^63 - 1, the largest signed 64-bit integer', () => {
    expect(isIdString('9223372036854775807')).toBe(true);
  });
});
