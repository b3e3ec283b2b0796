/**
 * Zoho OAuth scopes look like `ZohoCRM.bulk.CREATE` or `ZohoCRM.modules.leads.ALL`; an `ALL`
 * operation grants every operation of its scope, and `ZohoCRM.modules.ALL` every module.
 */
export const ALL_SCOPES: readonly string[] = [
  'ZohoCRM.bulk.ALL',
  'ZohoFiles.files.ALL',
  'ZohoCRM.modules.ALL',
  'ZohoCRM.settings.ALL',
  'ZohoCRM.users.ALL',
  'ZohoCRM.org.ALL',
];

export const SCOPE_PATTERN = /^[A-Za-z]+\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

function covers(granted: string, wanted: string): boolean {
  const g = granted.toLowerCase().split('.');
  const w = wanted.toLowerCase().split('.');
  if (g.join('.') === w.join('.')) return true;
  const op = g[g.length - 1];
  if (op !== 'all') return false;
  const prefix = g.slice(0, -1);
  // ZohoCRM.modules.ALL covers ZohoCRM.modules.<module>.<op>; ZohoCRM.bulk.ALL covers ZohoCRM.bulk.<op>.
  return prefix.length < w.length && prefix.every((part, i) => part === w[i]);
}

/** True when any granted scope covers any of the acceptable ones. */
export function hasAnyScope(granted: readonly string[], acceptable: readonly string[]): boolean {
  // Memoised per granted list (a cached token keeps the same array) and route scope list: every
  // request checks the same pair, and splitting scope names showed in job-details profiles.
  let answers = memo.get(granted);
  if (!answers) {
    answers = new WeakMap();
    memo.set(granted, answers);
  }
  let answer = answers.get(acceptable);
  if (answer === undefined) {
    answer = acceptable.some((a) => granted.some((g) => covers(g, a)));
    answers.set(acceptable, answer);
  }
  return answer;
}

const memo = new WeakMap<readonly string[], WeakMap<readonly string[], boolean>>();

export const SCOPES = {
  upload: ['ZohoFiles.files.ALL', 'ZohoCRM.bulk.ALL'],
  createJob: ['ZohoCRM.bulk.CREATE'],
  readJob: ['ZohoCRM.bulk.CREATE', 'ZohoCRM.bulk.READ'],
  moduleCreate: (moduleApiName: string, custom: boolean): string[] => {
    const name = custom ? 'custom' : moduleApiName.toLowerCase();
    return [`ZohoCRM.modules.${name}.CREATE`, `ZohoCRM.modules.${moduleApiName.toLowerCase()}.CREATE`];
  },
} as const;
