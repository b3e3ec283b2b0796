import type { Job } from '../../src/domain/job.js';
import type { CellValue } from '../../src/domain/coercion.js';
import type { BatchCommit, RecordRows, Store } from '../../src/ports/store.js';

export interface Seeded {
  readonly orgId: string;
  readonly userId: string;
  readonly moduleId: string;
}

/** An org with one Leads-like module that has a field of each stored kind. */
export async function seedOrg(store: Store): Promise<Seeded> {
  const [orgId, userId] = (await store.allocateIds(2)) as [string, string];
  await store.createOrg({
    org: { id: orgId, name: 'Contract', timeZone: 'UTC' },
    admin: { id: userId, orgId, name: 'Admin', email: 'admin@example.com', role: 'admin', active: true },
    modules: [
      {
        apiName: 'Leads',
        singularLabel: 'Lead',
        pluralLabel: 'Leads',
        fields: [
          { apiName: 'Last_Name', dataType: 'text', mandatory: true, isNameField: true },
          { apiName: 'Email', dataType: 'email', unique: true },
          { apiName: 'Owner', dataType: 'ownerlookup' },
          { apiName: 'Score', dataType: 'integer' },
          { apiName: 'Big', dataType: 'bigint' },
          { apiName: 'Active', dataType: 'boolean' },
          { apiName: 'Amount', dataType: 'currency' },
          // A lookup pointing at Leads makes Last_Name a name that lookups find (a key column on both backends).
          { apiName: 'Referred_By', dataType: 'lookup', lookupModule: 'Leads' },
        ],
      },
    ],
  });
  const module = (await store.listModules(orgId)).find((m) => m.apiName === 'Leads');
  if (!module) throw new Error('Leads was not created');
  return { orgId, userId, moduleId: module.id };
}

/** A custom module with a name field that no lookup points at; returns its id. */
export async function seedModule(store: Store, orgId: string, apiName: string): Promise<string> {
  await store.applySchema(orgId, {
    newModules: [{ apiName, singularLabel: apiName, pluralLabel: apiName, fields: [{ apiName: 'Last_Name', dataType: 'text', isNameField: true }] }],
    newFields: [],
  });
  const module = (await store.listModules(orgId)).find((m) => m.apiName === apiName);
  if (!module) throw new Error(`${apiName} was not created`);
  return module.id;
}

export function aJob(org: Seeded, id: string, createdTime = new Date()): Job {
  return {
    id,
    orgId: org.orgId,
    createdBy: { id: org.userId, name: 'Admin' },
    createdTime,
    operation: 'insert',
    ignoreEmpty: false,
    requestedEncoding: null,
    characterEncoding: null,
    callback: null,
    status: 'ADDED',
    resources: [
      {
        spec: { moduleId: org.moduleId, moduleApiName: 'Leads', fileId: '1', fileName: 'leads.csv', findBy: null, ignoreEmpty: false, mappings: [] },
        progress: { status: 'ADDED', code: 'ADDED', counts: { added: 0, updated: 0, skipped: 0 }, rowsDone: 0, resultBytes: 0 },
      },
    ],
    resultKey: null,
    failure: null,
    finishedTime: null,
  };
}

export interface PlainRecord {
  readonly id: string;
  readonly values: Readonly<Record<string, CellValue>>;
}

/**
 * Records as the flat rows of a batch: the union of their fields as columns; a field a record
 * lacks is undefined (null in an insert, left alone in an update).
 */
export function recordRows(records: readonly PlainRecord[], shared: Record<string, CellValue> = {}, keptKeys: readonly string[] = []): RecordRows {
  const columns = [...new Set(records.flatMap((r) => Object.keys(r.values)))];
  return {
    columns,
    ids: records.map((r) => r.id),
    values: columns.map((c) => records.map((r) => (c in r.values ? r.values[c] : undefined))),
    shared,
    keptKeys,
  };
}

/** A batch inserting `n` leads (`lead<i>@example.com`, Score = i) under the given worker's lease; `records` are its rows. */
export async function aBatch(store: Store, org: Seeded, jobId: string, workerId: string, n: number): Promise<BatchCommit & { records: PlainRecord[] }> {
  const ids = await store.allocateIds(n);
  const records = ids.map((id, i) => ({
    id,
    values: {
      Created_Time: '2024-01-02T03:04:05+05:30', Modified_Time: '2024-01-02T03:04:05+05:30', Created_By: org.userId, Modified_By: org.userId,
      Last_Name: `Lead\t${i}\n"quoted" \\ back`, Email: `lead${i}@example.com`, Owner: org.userId, Score: i, Big: '9007199254740993',
      Active: i % 2 === 0, Amount: 12.5,
    },
  }));
  return {
    jobId,
    workerId,
    resourceIndex: 0,
    moduleId: org.moduleId,
    userId: org.userId,
    inserts: recordRows(records),
    updates: recordRows([]),
    progress: { status: 'INPROGRESS', code: 'INPROGRESS', counts: { added: n, updated: 0, skipped: 0 }, rowsDone: n, resultBytes: 100 * n },
    resultLines: new Uint8Array(0),
    continues: null,
    leaseMs: 60_000,
    now: new Date(),
    records,
  };
}
