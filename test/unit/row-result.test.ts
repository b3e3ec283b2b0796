import { describe, expect } from 'vitest';
import { formatRowErrors, type RowError, type RowErrorCode } from '../../src/domain/row-result.js';
import { eachCase } from './case-table.js';

const err = (code: RowErrorCode, field: string | null = null): RowError => ({ code, field });

describe('formatRowErrors', () => {
  eachCase([
    { spec: 'writes nothing for a row without errors', errors: [], expected: '' },
    { spec: 'writes a single error as CODE-Column', errors: [err('MANDATORY_NOT_FOUND', 'Company')], expected: 'MANDATORY_NOT_FOUND-Company' },
    {
      spec: 'comma-joins the columns of one code',
      errors: [err('MANDATORY_NOT_FOUND', 'Company'), err('MANDATORY_NOT_FOUND', 'Last_Name')],
      expected: 'MANDATORY_NOT_FOUND-Company,Last_Name',
    },
    {
      spec: 'colon-separates codes (the reference example)',
      errors: [err('MANDATORY_NOT_FOUND', 'Company'), err('MANDATORY_NOT_FOUND', 'Last_Name'), err('DUPLICATE_DATA', 'Email')],
      expected: 'MANDATORY_NOT_FOUND-Company,Last_Name:DUPLICATE_DATA-Email',
    },
    {
      spec: 'orders codes by first appearance and gathers later columns under them',
      errors: [err('INVALID_DATA', 'Email'), err('MANDATORY_NOT_FOUND', 'Last_Name'), err('INVALID_DATA', 'Phone')],
      expected: 'INVALID_DATA-Email,Phone:MANDATORY_NOT_FOUND-Last_Name',
    },
    {
      spec: 'names a column once when it has the same code twice',
      errors: [err('INVALID_DATA', 'Email'), err('INVALID_DATA', 'Email')],
      expected: 'INVALID_DATA-Email',
    },
    { spec: 'writes a code without a field as the bare code', errors: [err('LIMIT_EXCEEDED')], expected: 'LIMIT_EXCEEDED' },
    { spec: 'writes RESOURCE_NOT_FOUND of the whole row as the bare code', errors: [err('RESOURCE_NOT_FOUND')], expected: 'RESOURCE_NOT_FOUND' },
    {
      spec: 'mixes a bare code with column codes in order',
      errors: [err('CANNOT_PROCESS'), err('INVALID_DATA', 'Email')],
      expected: 'CANNOT_PROCESS:INVALID_DATA-Email',
    },
    {
      spec: 'puts a bare code after column codes that came first',
      errors: [err('DUPLICATE_DATA', 'Email'), err('LIMIT_EXCEEDED')],
      expected: 'DUPLICATE_DATA-Email:LIMIT_EXCEEDED',
    },
  ], ({ errors, expected }) => {
    expect(formatRowErrors(errors)).toBe(expected);
  });
});
