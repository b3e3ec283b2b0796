import { COMPARISON_SQL } from '../criteria-sql.js';
import type { Criteria } from '../../domain/criteria.js';
import { foldKey } from '../../domain/metadata.js';
import { foldCase, numericParam, quoteIdent, type ColumnType } from './record-columns.js';

/**
 * SQL for a criteria tree with the answers SqliteStore gives: text compares ignore (ASCII) case as
 * Zoho's search does, numbers compare as numbers, and a value that is no number matches nothing.
 * Parameters are appended to `params` and referenced as $n; `columnOf` gives the SQL that reads a column.
 */
export function criteriaSql(
  c: Criteria,
  params: unknown[],
  typeOf: (column: string) => ColumnType,
  keyOf: (column: string) => string | undefined,
  columnOf: (column: string) => string = quoteIdent,
): string {
  if (c.kind === 'group') {
    return `(${c.children.map((x) => criteriaSql(x, params, typeOf, keyOf, columnOf)).join(c.operator === 'and' ? ' AND ' : ' OR ')})`;
  }
  const keyCol = keyOf(c.field);
  if (keyCol && (c.operator === 'equals' || c.operator === 'in')) {
    // Unique and name fields match as a duplicate check does: through their folded key column.
    const refs = c.values.map((v) => {
      params.push(foldKey(v));
      return `$${params.length}::text`;
    });
    return `${quoteIdent(keyCol)} IN (${refs.join(', ')})`;
  }
  const col = columnOf(c.field);
  const type = typeOf(c.field);
  const isId = c.field === 'id';
  const isText = !isId && type === 'TEXT';
  // Booleans are 0/1 to SQLite; compare them as such so `Flag:equals:1` means the same on both.
  const expr = isText ? `lower(${col})` : type === 'BOOLEAN' ? `(${col})::int` : col;
  const cast = isId ? '::bigint' : isText ? '::text' : '::numeric';
  const bind = (v: string): string => {
    if (isId) params.push(/^\d{1,19}$/.test(v) && BigInt(v) < 2n ** 63n ? v : '-1');
    else if (isText) params.push(foldCase(v));
    else params.push(numericParam(v));
    return `$${params.length}${cast}`;
  };
  const one = (op: string): string => `${expr} ${op} ${bind(c.values[0] ?? '')}`;
  switch (c.operator) {
    case 'equals':
    case 'greater_than':
    case 'greater_equal':
    case 'less_than':
    case 'less_equal':
      return one(COMPARISON_SQL[c.operator]);
    case 'not_equal': return `(${one('<>')} OR ${col} IS NULL)`;
    case 'starts_with':
    case 'contains': {
      // SQLite's LIKE ignores ASCII case; fold both sides to get the same matches.
      const escaped = foldCase(c.values[0] ?? '').replace(/[\\%_]/g, (m) => `\\${m}`);
      params.push(c.operator === 'contains' ? `%${escaped}%` : `${escaped}%`);
      const text = type === 'BOOLEAN' ? `(${col})::int::text` : `${col}::text`;
      return `lower(${text}) LIKE $${params.length}::text ESCAPE '\\'`;
    }
    case 'in':
      return `${expr} IN (${c.values.map(bind).join(', ')})`;
    case 'between':
      return `${expr} BETWEEN ${bind(c.values[0] ?? '')} AND ${bind(c.values[1] ?? '')}`;
  }
}
