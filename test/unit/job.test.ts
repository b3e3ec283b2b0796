import { describe, expect, it } from 'vitest';
import {
  NEW_RESOURCE_PROGRESS,
  renderJobDetails,
  renderMapping,
  totalCount,
  type FieldMapping,
  type Job,
  type JobStatus,
  type RenderContext,
  type ResourceProgress,
  type ResourceSpec,
  type ResourceStatus,
} from '../../src/domain/job.js';
import { eachCase } from './case-table.js';

const JOB_ID = '4150868000005350003';
const DOWNLOAD_URL = `https://download-accl.zoho.com/v2/crm/694902309/bulk-write/${JOB_ID}/${JOB_ID}.zip`;
const KOLKATA: RenderContext = { timeZone: 'Asia/Kolkata', downloadUrl: DOWNLOAD_URL };

const mapping = (apiName: string, index: number | null): FieldMapping => ({ apiName, index, format: null, findBy: null, module: null, defaultValue: null });

const SEED_SPEC: ResourceSpec = {
  moduleId: '4150868000000002175',
  moduleApiName: 'Leads',
  fileId: '4150868000005340001',
  fileName: 'Fil2.csv',
  findBy: null,
  ignoreEmpty: true,
  mappings: [mapping('Owner', 2), mapping('Last_Name', 0), mapping('Mobile', 1)],
};

function progress(status: ResourceStatus, code: string, counts = { added: 9, updated: 0, skipped: 2 }): ResourceProgress {
  return { status, code, counts, rowsDone: totalCount(counts), resultBytes: 0 };
}

/** The seed's COMPLETED job (reference/seed-job-details.txt), with state overrides. */
function job(status: JobStatus, resourceProgress: ResourceProgress, overrides: Partial<Job> = {}): Job {
  return {
    id: JOB_ID,
    orgId: '694902309',
    createdBy: { id: '4150868000000225013', name: 'Patricia Boyle' },
    createdTime: new Date('2021-05-11T07:08:29Z'),
    operation: 'insert',
    ignoreEmpty: true,
    requestedEncoding: null,
    characterEncoding: 'UTF-8',
    callback: { url: 'https://www.zoho.com/', method: 'post' },
    status,
    resources: [{ spec: SEED_SPEC, progress: resourceProgress }],
    resultKey: null,
    failure: null,
    finishedTime: null,
    ...overrides,
  };
}

const SEED_MAPPINGS = [
  { api_name: 'Owner', index: 2, format: null, find_by: null, module: null, default_value: null },
  { api_name: 'Last_Name', index: 0, format: null, find_by: null, module: null, default_value: null },
  { api_name: 'Mobile', index: 1, format: null, find_by: null, module: null, default_value: null },
];

describe('renderJobDetails', () => {
  it('renders a COMPLETED job exactly as the seed, key for key', () => {
    const seed = {
      status: 'COMPLETED',
      character_encoding: 'UTF-8',
      resource: [
        {
          status: 'COMPLETED',
          type: 'data',
          module: { id: '4150868000000002175', api_name: 'Leads' },
          field_mappings: SEED_MAPPINGS,
          file: { status: 'COMPLETED', name: 'Fil2.csv', added_count: 9, skipped_count: 2, updated_count: 0, total_count: 11 },
          code: 'COMPLETED',
        },
      ],
      id: JOB_ID,
      callback: { url: 'https://www.zoho.com/', method: 'post' },
      result: { download_url: DOWNLOAD_URL },
      created_by: { id: '4150868000000225013', name: 'Patricia Boyle' },
      ignore_empty: true,
      operation: 'insert',
      created_time: '2021-05-11T12:38:29+05:30',
    };
    expect(JSON.stringify(renderJobDetails(job('COMPLETED', progress('COMPLETED', 'COMPLETED')), KOLKATA))).toBe(JSON.stringify(seed));
  });

  it('renders an ADDED job without character_encoding or result, its file holding only status', () => {
    const added = job('ADDED', NEW_RESOURCE_PROGRESS, { characterEncoding: 'UTF-8', callback: null });
    expect(JSON.stringify(renderJobDetails(added, KOLKATA))).toBe(
      JSON.stringify({
        status: 'ADDED',
        resource: [
          {
            status: 'ADDED',
            type: 'data',
            module: { id: '4150868000000002175', api_name: 'Leads' },
            field_mappings: SEED_MAPPINGS,
            file: { status: 'ADDED' },
            code: 'ADDED',
          },
        ],
        id: JOB_ID,
        created_by: { id: '4150868000000225013', name: 'Patricia Boyle' },
        ignore_empty: true,
        operation: 'insert',
        created_time: '2021-05-11T12:38:29+05:30',
      }),
    );
  });

  it('renders an INPROGRESS job with its counts so far and no result', () => {
    const running = job('INPROGRESS', progress('INPROGRESS', 'INPROGRESS', { added: 100, updated: 5, skipped: 3 }));
    expect(JSON.stringify(renderJobDetails(running, KOLKATA))).toBe(
      JSON.stringify({
        status: 'INPROGRESS',
        character_encoding: 'UTF-8',
        resource: [
          {
            status: 'INPROGRESS',
            type: 'data',
            module: { id: '4150868000000002175', api_name: 'Leads' },
            field_mappings: SEED_MAPPINGS,
            file: { status: 'INPROGRESS', name: 'Fil2.csv', added_count: 100, skipped_count: 3, updated_count: 5, total_count: 108 },
            code: 'INPROGRESS',
          },
        ],
        id: JOB_ID,
        callback: { url: 'https://www.zoho.com/', method: 'post' },
        created_by: { id: '4150868000000225013', name: 'Patricia Boyle' },
        ignore_empty: true,
        operation: 'insert',
        created_time: '2021-05-11T12:38:29+05:30',
      }),
    );
  });

  it('renders a FAILED job with its error code and partial counts, and no result', () => {
    const failed = job('FAILED', progress('FAILED', 'CANNOT_PROCESS', { added: 4, updated: 0, skipped: 1 }), { resultKey: 'results/x.zip' });
    expect(JSON.stringify(renderJobDetails(failed, KOLKATA))).toBe(
      JSON.stringify({
        status: 'FAILED',
        character_encoding: 'UTF-8',
        resource: [
          {
            status: 'FAILED',
            type: 'data',
            module: { id: '4150868000000002175', api_name: 'Leads' },
            field_mappings: SEED_MAPPINGS,
            file: { status: 'FAILED', name: 'Fil2.csv', added_count: 4, skipped_count: 1, updated_count: 0, total_count: 5 },
            code: 'CANNOT_PROCESS',
          },
        ],
        id: JOB_ID,
        callback: { url: 'https://www.zoho.com/', method: 'post' },
        created_by: { id: '4150868000000225013', name: 'Patricia Boyle' },
        ignore_empty: true,
        operation: 'insert',
        created_time: '2021-05-11T12:38:29+05:30',
      }),
    );
  });

  eachCase<{ spec: string; status: JobStatus; characterEncoding: string | null; expected: string[] }>([
    {
      spec: 'leaves out character_encoding of a FAILED job whose file was never read',
      status: 'FAILED',
      characterEncoding: null,
      expected: ['status', 'resource', 'id', 'created_by', 'ignore_empty', 'operation', 'created_time'],
    },
    {
      spec: 'leaves out callback when none was given, keeping result of a COMPLETED job',
      status: 'COMPLETED',
      characterEncoding: 'UTF-8',
      expected: ['status', 'character_encoding', 'resource', 'id', 'result', 'created_by', 'ignore_empty', 'operation', 'created_time'],
    },
    {
      spec: 'leaves out callback and result of an INPROGRESS job without callback',
      status: 'INPROGRESS',
      characterEncoding: 'UTF-8',
      expected: ['status', 'character_encoding', 'resource', 'id', 'created_by', 'ignore_empty', 'operation', 'created_time'],
    },
  ], ({ status, characterEncoding, expected }) => {
    const j = job(status, progress(status === 'COMPLETED' ? 'COMPLETED' : 'INPROGRESS', status), { characterEncoding, callback: null });
    expect(Object.keys(renderJobDetails(j, KOLKATA))).toEqual(expected);
  });

  it('renders ignore_empty false as false', () => {
    expect(renderJobDetails(job('ADDED', NEW_RESOURCE_PROGRESS, { ignoreEmpty: false }), KOLKATA).ignore_empty).toBe(false);
  });

  it('writes created_time in the org zone', () => {
    expect(renderJobDetails(job('ADDED', NEW_RESOURCE_PROGRESS), { timeZone: 'America/New_York', downloadUrl: DOWNLOAD_URL }).created_time).toBe(
      '2021-05-11T03:08:29-04:00',
    );
  });

  it('renders a SKIPPED resource with a file holding only status', () => {
    const skipped = job('FAILED', progress('SKIPPED', 'SKIPPED', { added: 0, updated: 0, skipped: 0 }));
    const resource = (renderJobDetails(skipped, KOLKATA).resource as Record<string, unknown>[])[0];
    expect(resource?.file).toEqual({ status: 'SKIPPED' });
  });
});

describe('renderMapping', () => {
  it('echoes all six keys, null when unset, in Zoho order', () => {
    expect(JSON.stringify(renderMapping(mapping('Last_Name', 0)))).toBe(
      '{"api_name":"Last_Name","index":0,"format":null,"find_by":null,"module":null,"default_value":null}',
    );
  });

  it('echoes every set key', () => {
    expect(
      renderMapping({ apiName: 'Account_Name', index: null, format: null, findBy: 'id', module: 'Accounts', defaultValue: { value: '4150868000000224005' } }),
    ).toEqual({ api_name: 'Account_Name', index: null, format: null, find_by: 'id', module: 'Accounts', default_value: { value: '4150868000000224005' } });
  });
});

describe('totalCount', () => {
  it('adds added, updated and skipped', () => {
    expect(totalCount({ added: 9, updated: 3, skipped: 2 })).toBe(14);
  });
});
