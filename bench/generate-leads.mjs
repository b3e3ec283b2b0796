// Deterministic Leads CSV for the benchmark: ~10 columns, non-ASCII names, unique emails, and a
// Description with commas, quotes and newlines in about 5% of rows.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const FIRST = ['José', 'Zoë', 'Ångström', 'Chloé', 'Søren', 'Łukasz', 'Mário', 'Ingrid', 'Noël', 'Björn', 'Anaïs', 'Dvořák'];
const LAST = ['Müller', 'García', 'Østergaard', 'Nuñez', 'Kowalski', 'Boyle', 'Smith', 'Ibáñez', 'Åberg', 'Fontaine'];
const COMPANIES = ['Zylker', 'Acme Corp', 'Globex', 'Initech', 'Umbrella', 'Stark Industries', 'Wayne Enterprises'];
const SOURCES = ['Advertisement', 'Cold Call', 'Web Download', 'Trade Show', 'Partner'];

export const BENCH_HEADER = ['First_Name', 'Last_Name', 'Email', 'Phone', 'Company', 'Lead_Source', 'No_of_Employees', 'Last_Contacted', 'Website', 'Description'];

/** The fields of data row i, as the CSV holds them (Description unquoted). */
export function leadFields(i) {
  // A small LCG keeps the file the same on every run without storing it.
  const r = (i * 2654435761) >>> 0;
  const first = FIRST[r % FIRST.length];
  const last = LAST[(r >>> 8) % LAST.length];
  const month = String(1 + (r % 12)).padStart(2, '0');
  const day = String(1 + ((r >>> 4) % 28)).padStart(2, '0');
  const description = r % 20 === 0 ? `Met at "${COMPANIES[r % 7]}", follow up\nnext week, maybe, later` : `Lead number ${i}`;
  return [first, `${last} ${i}`, `lead${i}@example.com`, `+1 555 ${String(i % 10_000_000).padStart(7, '0')}`, COMPANIES[(r >>> 3) % 7],
    SOURCES[(r >>> 5) % 5], String(r % 5000), `2024-${month}-${day}`, `https://www.example${r % 100}.com`, description];
}

function row(i) {
  return leadFields(i).map((v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',');
}

/** Writes `rows` data rows (plus the header) to `file`; `emailOffset` shifts the unique emails. */
export async function generateLeads(file, rows) {
  const out = createWriteStream(file);
  out.write(`${BENCH_HEADER.join(',')}\n`);
  let chunk = [];
  for (let i = 0; i < rows; i++) {
    chunk.push(row(i));
    if (chunk.length === 5000) {
      if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
      chunk = [];
    }
  }
  if (chunk.length) out.write(`${chunk.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  await generateLeads(process.argv[2] ?? 'leads.csv', Number(process.argv[3] ?? 1_000_000));
}
