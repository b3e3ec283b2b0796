import type { CriteriaOperator } from '../domain/criteria.js';

/** The SQL comparison each criteria operator with one value is, the same in both stores' dialects. */
export const COMPARISON_SQL: Readonly<Record<Extract<CriteriaOperator, 'equals' | 'greater_than' | 'greater_equal' | 'less_than' | 'less_equal'>, string>> = {
  equals: '=',
  greater_than: '>',
  greater_equal: '>=',
  less_than: '<',
  less_equal: '<=',
};
