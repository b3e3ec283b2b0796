import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadsCsv } from '../support/builders.js';
import { labelIds, lines } from '../support/import-run.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { unzipEntries } from '../support/zip.js';
import { cliWorkDir, connectionFlags, createdJobIds, runCli } from './cli-run.js';

let server: TestServer;
let work: string;
let conn: string[];
const FAST = ['--poll-interval', '100'];

beforeAll(async () => {
  server = await startTestServer();
  work = await cliWorkDir();
  conn = connectionFlags(server);
});

afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

async function csvFile(name: string, text: string): Promise<string> {
  const file = path.join(work, name);
  await writeFile(file, text);
  return file;
}

const cli = (...args: string[]) => runCli(work, args);

describe('bulkwright import', () => {
  it('imports a clean CSV, prints the job id, and job / result / jobs read it back', async () => {
    const file = await csvFile('clean.csv', leadsCsv(['Last_Name', 'Email', 'Mobile'], [
      { Last_Name: 'Boyle', Email: 'pb@zylker.com', Mobile: '555-0100' },
      { Last_Name: 'Smith', Email: 'js@zylker.com', Mobile: '555-0101' },
    ]));
    const out = path.join(work, 'clean-report.csv');
    const run = await cli('import', file, '--module', 'Leads', '--result', out, ...FAST, ...conn);
    expect(run.stderr).not.toContain('bulkwright:');
    expect(run.code).toBe(0);
    const [jobId] = createdJobIds(run.stdout);
    expect(run.stdout).toBe(
      `job ${jobId} created: rows 1-2 of ${file}\n` +
        'COMPLETED: 1 job, 2 rows: 2 added, 0 updated, 0 skipped\n' +
        `report: ${out} (2 rows, in input order, ROW = input data row)\n`,
    );
    // Without a terminal, progress comes as plain lines on stderr.
    expect(run.stderr).toMatch(/^progress: 2\/2 rows \(100\.0%\), \d+ rows\/s, ETA 0s, job 1\/1 \d{19} COMPLETED$/m);
    expect(labelIds(await readFile(out, 'utf8'))).toBe(lines(
      'ROW,Last_Name,Email,Mobile,STATUS,RECORD_ID,ERRORS',
      '1,Boyle,pb@zylker.com,555-0100,ADDED,<new1>,',
      '2,Smith,js@zylker.com,555-0101,ADDED,<new2>,',
    ));
    expect(await server.countRecords('Leads')).toBeGreaterThanOrEqual(2);

    const job = await cli('job', jobId as string, ...conn);
    expect(job.code).toBe(0);
    expect(job.stdout).toMatch(new RegExp(
      `^job ${jobId}: COMPLETED \\(insert\\), created \\S+\\+05:30 by Bulkwright Admin\\n` +
        '  Leads  clean.csv  COMPLETED  2 rows: 2 added, 0 updated, 0 skipped\\n' +
        `  result: ${server.baseUrl}/v2/crm/${server.orgId}/bulk-write/${jobId}/${jobId}\\.zip\\n$`,
    ));

    const raw = await cli('job', jobId as string, '--json', ...conn);
    const body = JSON.parse(raw.stdout) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['status', 'character_encoding', 'resource', 'id', 'result', 'created_by', 'ignore_empty', 'operation', 'created_time']);
    expect(body.id).toBe(jobId);

    const result = await cli('result', jobId as string, '-o', path.join(work, 'again.csv'), ...conn);
    expect(result.code).toBe(0);
    expect(await readFile(path.join(work, 'again.csv'), 'utf8')).toBe(await readFile(out, 'utf8'));
    expect((await cli('result', jobId as string, ...conn)).stdout).toBe(await readFile(out, 'utf8'));

    const zip = path.join(work, 'result.zip');
    expect((await cli('result', jobId as string, '-o', zip, ...conn)).code).toBe(0);
    expect([...(await unzipEntries(await readFile(zip))).keys()]).toEqual(['Leads-clean.csv']);

    const jobs = await cli('jobs', '--limit', '1', ...conn);
    expect(jobs.code).toBe(0);
    expect(jobs.stdout).toMatch(new RegExp(`^${jobId}  COMPLETED   insert  \\S+  Leads clean\\.csv  2 rows \\(2 added, 0 updated, 0 skipped\\)\\n$`));
  });

  it('reports bad rows with their input row numbers and errors, counting quoted line breaks as one row', async () => {
    const file = await csvFile('bad.csv', leadsCsv(['Last_Name', 'Email', 'Company'], [
      { Last_Name: 'Good', Email: 'good@zylker.com', Company: 'Zylker\nWest' },
      { Last_Name: '', Email: 'nameless@zylker.com' },
      { Last_Name: 'Broken', Email: 'not-an-email' },
      { Last_Name: 'Fine', Email: 'fine@zylker.com' },
    ]));
    const out = path.join(work, 'bad-report.csv');
    const run = await cli('import', file, '--module', 'Leads', '--result', out, ...FAST, ...conn);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').slice(1).join('\n')).toBe(
      'COMPLETED: 1 job, 4 rows: 2 added, 0 updated, 2 skipped\n' +
        'skipped rows:\n' +
        '  row 2: MANDATORY_NOT_FOUND-Last_Name\n' +
        '  row 3: INVALID_DATA-Email\n' +
        `report: ${out} (4 rows, in input order, ROW = input data row)\n`,
    );
    expect(labelIds(await readFile(out, 'utf8'))).toBe(lines(
      'ROW,Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS',
      '1,Good,good@zylker.com,"Zylker\nWest",ADDED,<new1>,',
      '2,,nameless@zylker.com,,SKIPPED,,MANDATORY_NOT_FOUND-Last_Name',
      '3,Broken,not-an-email,,SKIPPED,,INVALID_DATA-Email',
      '4,Fine,fine@zylker.com,,ADDED,<new2>,',
    ));
  });

  it('exits 1 under --strict when rows were skipped, and 0 when none were', async () => {
    const bad = await csvFile('strict-bad.csv', leadsCsv(['Last_Name', 'Email'], [{ Last_Name: '', Email: 'strict1@zylker.com' }]));
    const skipped = await cli('import', bad, '--module', 'Leads', '--strict', ...FAST, ...conn);
    expect(skipped.code).toBe(1);
    expect(skipped.stderr).toContain('bulkwright: 1 row skipped (--strict)');
    const good = await csvFile('strict-good.csv', leadsCsv(['Last_Name', 'Email'], [{ Last_Name: 'Kept', Email: 'strict2@zylker.com' }]));
    expect((await cli('import', good, '--module', 'Leads', '--strict', ...FAST, ...conn)).code).toBe(0);
  });

  it('maps named columns with --map and upserts with --find-by', async () => {
    const file = await csvFile('mapped.csv', 'Surname,E-mail\r\nMapped,mapped@zylker.com\r\n');
    const first = await cli('import', file, '--module', 'Leads', '--map', 'E-mail=Email,Surname=Last_Name', '--wait', ...FAST, ...conn);
    expect(first.code).toBe(0);
    const details = JSON.parse((await cli('job', createdJobIds(first.stdout)[0] as string, '--json', ...conn)).stdout) as {
      resource: { field_mappings: { api_name: string; index: number }[] }[];
    };
    expect(details.resource[0]?.field_mappings.map((m) => [m.api_name, m.index])).toEqual([['Email', 1], ['Last_Name', 0]]);
    const again = await cli('import', file, '--module', 'Leads', '--operation', 'upsert', '--find-by', 'Email',
      '--map', 'Surname=Last_Name,E-mail=Email', '--wait', ...FAST, ...conn);
    expect(again.stdout).toContain('COMPLETED: 1 job, 1 row: 0 added, 1 updated, 0 skipped\n');
  });

  it('without --wait prints the job ids and returns at once', async () => {
    const file = await csvFile('nowait.csv', leadsCsv(['Last_Name', 'Email'], [{ Last_Name: 'Later', Email: 'later@zylker.com' }]));
    const run = await cli('import', file, '--module', 'Leads', ...conn);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^job \d{19} created: rows 1-1 of \S+nowait\.csv\n$/);
  });
});

describe('bulkwright CLI failures', () => {
  it('says clearly that the token was refused, and exits 3', async () => {
    const file = await csvFile('badtoken.csv', leadsCsv(['Last_Name'], [{ Last_Name: 'Nobody' }]));
    const bad = connectionFlags(server, '1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef');
    const run = await cli('import', file, '--module', 'Leads', '--wait', ...bad);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `bulkwright: the server refused the access token: INVALID_TOKEN "invalid oauth token" from ${server.baseUrl}/crm/v2.1/upload; ` +
        'check --token, BULKWRIGHT_TOKEN or the profile file\n',
    );
    expect((await cli('job', '4150868000005350003', ...bad)).code).toBe(3);
  });

  it('exits 3 with the API error for an unknown job', async () => {
    const run = await cli('job', '4150868000005350003', ...conn);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`bulkwright: HTTP 400 RESOURCE_NOT_FOUND: The requested resource doesn't exist. from ${server.baseUrl}/crm/bulk/v2.1/write/4150868000005350003\n`);
  });

  it('exits 2 on usage errors, before sending anything', async () => {
    const file = await csvFile('usage.csv', leadsCsv(['Last_Name'], [{ Last_Name: 'Usage' }]));
    const cases: [string[], string][] = [
      [['import', file, ...conn], "error: required option '--module <name>' not specified"],
      [['import', file, '--module', 'Leads', '--operation', 'update', ...conn], '--operation update needs --find-by FIELD'],
      [['import', file, '--module', 'Leads', '--operation', 'merge', ...conn], "argument 'merge' is invalid"],
      [['import', file, '--module', 'Leads', '--map', 'Nope=Last_Name', ...conn], 'column "Nope" is not in the header'],
      [['import', file, '--module', 'Leads', '--map', 'Last_Name', ...conn], '--map takes Column=Field pairs'],
      [['import', path.join(work, 'missing.csv'), '--module', 'Leads', ...conn], 'no such file'],
      [['import', await csvFile('empty.csv', 'Last_Name\r\n'), '--module', 'Leads', ...conn], 'has a header but no data rows'],
      [['job', '1', '--api-domain', server.baseUrl], 'no credentials: give --token'],
      [['jobs', '--api-domain', 'https://www.zohoapis.eu', '--token', 'x'], 'listing jobs is a Bulkwright extension'],
      [['import', file, '--module', 'Leads', '--bogus', ...conn], "error: unknown option '--bogus'"],
      [['bogus'], "error: unknown command 'bogus'"],
    ];
    for (const [args, message] of cases) {
      const run = await cli(...args);
      expect({ args, code: run.code, stderr: run.stderr.includes(message) }).toEqual({ args, code: 2, stderr: true });
    }
  });

  it('reads connection settings from env and from a profile file', async () => {
    const profile = path.join(work, 'profile.json');
    await writeFile(profile, JSON.stringify({ api_domain: server.baseUrl, access_token: server.token, org_id: server.orgId }));
    expect((await cli('jobs', '--limit', '1', '--profile-file', profile)).code).toBe(0);
    const env = { BULKWRIGHT_API_DOMAIN: server.baseUrl, BULKWRIGHT_TOKEN: server.token, BULKWRIGHT_ORG: server.orgId };
    expect((await runCli(work, ['jobs', '--limit', '1'], env)).code).toBe(0);
    // A flag beats env: the bad token is used, and refused.
    expect((await runCli(work, ['jobs', '--token', 'bad'], env)).code).toBe(3);
  });
});
