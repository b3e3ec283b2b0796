/**
 * Zoho's search criteria: `(Field:operator:value)` groups joined by `and` / `or`, e.g.
 * `((Last_Name:equals:Boyle)and(Email:starts_with:pb))`. Values escape `(`, `)` and `,` with `\`.
 */
export type CriteriaOperator =
  | 'equals'
  | 'not_equal'
  | 'starts_with'
  | 'in'
  | 'greater_than'
  | 'greater_equal'
  | 'less_than'
  | 'less_equal'
  | 'between'
  /** Not in the criteria grammar: what the `word` search parameter means. */
  | 'contains';

export const CRITERIA_OPERATORS: readonly CriteriaOperator[] = [
  'equals', 'not_equal', 'starts_with', 'in', 'greater_than', 'greater_equal', 'less_than', 'less_equal', 'between',
];

export type Criteria =
  | { readonly kind: 'condition'; readonly field: string; readonly operator: CriteriaOperator; readonly values: readonly string[] }
  | { readonly kind: 'group'; readonly operator: 'and' | 'or'; readonly children: readonly Criteria[] };

export class CriteriaSyntaxError extends Error {}

export function parseCriteria(text: string): Criteria {
  const p = new Parser(text.trim());
  const c = p.expression();
  if (!p.done()) throw new CriteriaSyntaxError(`unexpected text at position ${p.pos} of the criteria`);
  return c;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.pos >= this.s.length;
  }

  expression(): Criteria {
    const first = this.term();
    const children = [first];
    let op: 'and' | 'or' | null = null;
    for (;;) {
      const rest = this.s.slice(this.pos).toLowerCase();
      const next = rest.startsWith('and') ? 'and' : rest.startsWith('or') ? 'or' : null;
      if (!next) break;
      if (op && op !== next) throw new CriteriaSyntaxError('mixing and/or needs parentheses');
      op = next;
      this.pos += next.length;
      children.push(this.term());
    }
    return op ? { kind: 'group', operator: op, children } : first;
  }

  private term(): Criteria {
    if (this.s[this.pos] !== '(') throw new CriteriaSyntaxError(`expected ( at position ${this.pos} of the criteria`);
    // A group starts with a second parenthesis; a condition with a field name.
    if (this.s[this.pos + 1] === '(') {
      this.pos++;
      const inner = this.expression();
      this.expect(')');
      return inner;
    }
    this.pos++;
    const field = this.until(':');
    this.expect(':');
    const operator = this.until(':').toLowerCase() as CriteriaOperator;
    if (!CRITERIA_OPERATORS.includes(operator)) throw new CriteriaSyntaxError(`unknown operator ${operator} in the criteria`);
    this.expect(':');
    const values: string[] = [];
    let current = '';
    while (this.pos < this.s.length && this.s[this.pos] !== ')') {
      const ch = this.s[this.pos] as string;
      if (ch === '\\' && this.pos + 1 < this.s.length) {
        current += this.s[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if (ch === ',' && (operator === 'in' || operator === 'between')) {
        values.push(current);
        current = '';
      } else current += ch;
      this.pos++;
    }
    values.push(current);
    this.expect(')');
    if (field === '') throw new CriteriaSyntaxError('a criteria condition has no field');
    if (operator === 'between' && values.length !== 2) throw new CriteriaSyntaxError('between takes two values');
    return { kind: 'condition', field, operator, values };
  }

  private until(ch: string): string {
    const end = this.s.indexOf(ch, this.pos);
    if (end < 0) throw new CriteriaSyntaxError(`expected ${ch} in the criteria`);
    const out = this.s.slice(this.pos, end);
    this.pos = end;
    return out.trim();
  }

  private expect(ch: string): void {
    if (this.s[this.pos] !== ch) throw new CriteriaSyntaxError(`expected ${ch} at position ${this.pos} of the criteria`);
    this.pos++;
  }
}
