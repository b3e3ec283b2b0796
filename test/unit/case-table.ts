import { it } from 'vitest';

/**
 * One `it` per table row. Unlike `it.each('$spec')`, the test name is neither quoted nor cut at
 * 40 characters, so the report reads as a list of specifications.
 */
export function eachCase<T extends { readonly spec: string }>(rows: readonly T[], test: (row: T) => void): void;
export function eachCase<T>(rows: readonly T[], name: (row: T) => string, test: (row: T) => void): void;
export function eachCase<T>(rows: readonly T[], nameOrTest: ((row: T) => string) | ((row: T) => void), maybeTest?: (row: T) => void): void {
  const test = maybeTest ?? (nameOrTest as (row: T) => void);
  const name = maybeTest ? (nameOrTest as (row: T) => string) : (row: T) => (row as { spec: string }).spec;
  for (const row of rows) it(name(row), () => test(row));
}
