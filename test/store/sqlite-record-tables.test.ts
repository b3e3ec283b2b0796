import { describe, expect, it } from 'vitest';
import { composeId } from '../../src/domain/ids.js';
import { consecutiveBase } from '../../src/store/sqlite/record-tables.js';

describe('consecutiveBase', () => {
  const run = (from: number, n: number, prefix = 4150868): string[] => Array.from({ length: n }, (_, k) => composeId(prefix, from + k));

  it('gives the first id as an integer when every id follows the one before it', () => {
    expect(consecutiveBase(run(999_999_999_950, 50), 0, 50)).toBe(4150868999999999950n);
    expect(consecutiveBase(run(0, 3), 0, 3)).toBe(4150868000000000000n);
    expect(consecutiveBase(['x', ...run(7, 4)], 1, 4)).toBe(4150868000000000007n);
  });

  it('gives null for a gap, a step back, a repeat, another prefix or an id composeId does not spell', () => {
    const ids = run(100, 5);
    expect(consecutiveBase([...ids.slice(0, 2), ...ids.slice(3), composeId(4150868, 105)], 0, 5)).toBeNull();
    expect(consecutiveBase([...ids].reverse(), 0, 5)).toBeNull();
    expect(consecutiveBase([ids[0] as string, ids[0] as string], 0, 2)).toBeNull();
    expect(consecutiveBase([ids[0] as string, composeId(4150869, 101)], 0, 2)).toBeNull();
    // Same length and the right number, but not digits: what Number() would have read as 101.
    expect(Number('0000001.01e2')).toBe(101);
    expect(consecutiveBase([ids[0] as string, '41508680000001.01e2'], 0, 2)).toBeNull();
    expect(consecutiveBase([ids[0] as string, '4150868 00000000101'], 0, 2)).toBeNull();
    expect(consecutiveBase(['415086800000000100', '415086800000000101'], 0, 2)).toBeNull();
    expect(consecutiveBase(['a150868000000000100', 'a150868000000000101'], 0, 2)).toBeNull();
    // Text between two ids in string order, where an id of digits would be: ':' sorts after '9'.
    expect(consecutiveBase(['4150868000000000108', '415086800000000010:', '4150868000000000110'], 0, 3)).toBeNull();
    expect(consecutiveBase(['4150868000000000108', '415086800000000010\u0669', '4150868000000000110'], 0, 3)).toBeNull();
    expect(consecutiveBase(['4150868000000000108', '4150868000000000109', '4150868000000000110'], 0, 3)).toBe(4150868000000000108n);
  });
});
