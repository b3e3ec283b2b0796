import type { TestServer } from './server.js';

export interface LeadRow {
  Last_Name?: string;
  First_Name?: string;
  Email?: string;
  Mobile?: string;
  Phone?: string;
  Company?: string;
  Owner?: string;
}

/** A Leads CSV with the given columns, quoting cells that need it. */
export function leadsCsv(columns: readonly (keyof LeadRow)[], rows: readonly LeadRow[], delimiter = ','): string {
  const cell = (v: string): string => (/[",\n\r;:|]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [columns.join(delimiter), ...rows.map((r) => columns.map((c) => cell(r[c] ?? '')).join(delimiter))];
  return `${lines.join('\r\n')}\r\n`;
}

/** n leads with unique emails `lead<i>@example.com`. */
export function manyLeads(n: number, owner?: string, start = 0): LeadRow[] {
  return Array.from({ length: n }, (_, k) => {
    const i = start + k;
    return { Last_Name: `Lead ${i}`, Email: `lead${i}@example.com`, Mobile: `+1555${String(i).padStart(7, '0')}`, Owner: owner };
  });
}

export function insertLeadsBody(fileId: string, mappings: readonly { api_name: string; index: number }[], extra: Record<string, unknown> = {}) {
  return {
    operation: 'insert',
    resource: [{ type: 'data', module: { api_name: 'Leads' }, file_id: fileId, field_mappings: mappings }],
    ...extra,
  };
}

/** What a refused request must leave untouched: jobs, uploaded files and records. */
export async function stateOf(server: TestServer): Promise<{ jobs: number; uploads: number; leads: number }> {
  const jobs = (await server.bw.store.listJobs(server.orgId, 100_000)).length;
  return { jobs, uploads: await server.countUploads(), leads: await server.countRecords('Leads') };
}
