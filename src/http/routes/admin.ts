import { Errors } from '../../domain/errors.js';
import { SCOPES } from '../../domain/scopes.js';
import type { JobService } from '../../services/job-service.js';
import { sendJson } from '../replies.js';
import type { RouteDef } from '../route-table.js';

const MAX_LIMIT = 200;

function parseLimit(value: unknown): number {
  if (value === undefined || value === '') return 20;
  const n = typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw Errors.invalidData(`limit must be a whole number from 1 to ${MAX_LIMIT}`, { api_name: 'limit' });
  }
  return n;
}

/**
 * Bulkwright's own endpoints, outside Zoho's paths. Zoho has no way to list bulk write jobs, and
 * `GET /crm/bulk/v2.1/write` must stay INVALID_REQUEST_METHOD as on Zoho, so listing lives here.
 */
export function adminRoutes(jobs: JobService): RouteDef[] {
  return [
    {
      method: 'GET',
      path: '/bulkwright/v1/jobs',
      scopes: SCOPES.readJob,
      handler: async ({ request, reply, principal }) => {
        const limit = parseLimit((request.query as Record<string, unknown> | undefined)?.limit);
        const recent = await jobs.list(principal, limit);
        return sendJson(reply, 200, { jobs: await Promise.all(recent.map((job) => jobs.render(job))) });
      },
    },
  ];
}
