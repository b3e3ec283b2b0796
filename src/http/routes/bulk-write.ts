import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { Errors } from '../../domain/errors.js';
import { SCOPES } from '../../domain/scopes.js';
import { formatZohoTime } from '../../domain/time.js';
import type { JobService } from '../../services/job-service.js';
import type { UploadService } from '../../services/upload-service.js';
import { sendJson } from '../replies.js';
import type { HandlerRouteDef, RouteDef } from '../route-table.js';

export interface BulkWriteDeps {
  readonly uploads: UploadService;
  readonly jobs: JobService;
  readonly orgTimeZone: (orgId: string) => Promise<string>;
  readonly uploadErrorStatus: number;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The Bulk Write v2.1 endpoints of CONTRACT.md "Endpoints". */
export function bulkWriteRoutes(deps: BulkWriteDeps): RouteDef[] {
  const upload: HandlerRouteDef['handler'] = async ({ request, reply, principal }) => {
    const now = formatZohoTime(new Date(), await deps.orgTimeZone(principal.orgId));
    if ((header(request, 'feature') ?? '').trim().toLowerCase() !== 'bulk-write') {
      throw Errors.notSupportedFeature(deps.uploadErrorStatus, now);
    }
    const org = header(request, 'x-crm-org')?.trim();
    if (org !== undefined && org !== '' && org !== principal.orgId) {
      throw Errors.invalidData(`the X-CRM-ORG header ${org} is not the org of this access token`, { api_name: 'X-CRM-ORG' });
    }
    if (!request.isMultipart()) throw Errors.requiredKey('file', '$.file');
    const part = await request.file();
    if (!part || part.fieldname !== 'file') throw Errors.requiredKey('file', '$.file');
    const file = await deps.uploads.upload(principal, part.file, part.filename || 'upload.zip');
    return sendJson(reply, 200, {
      status: 'success',
      code: 'FILE_UPLOAD_SUCCESS',
      message: 'file uploaded.',
      details: { file_id: file.id, created_time: formatZohoTime(file.createdTime, await deps.orgTimeZone(principal.orgId)) },
    });
  };

  return [
    { method: 'POST', path: '/crm/v2.1/upload', scopes: SCOPES.upload, handler: upload },
    { method: 'POST', path: '/crm/v2/upload', scopes: SCOPES.upload, handler: upload },
    {
      method: 'POST',
      path: '/crm/bulk/v2.1/write',
      scopes: SCOPES.createJob,
      handler: async ({ request, reply, principal }) => {
        const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
        const job = await deps.jobs.create(principal, body);
        return sendJson(reply, 201, {
          status: 'success',
          code: 'SUCCESS',
          message: 'success',
          details: { id: job.id, created_by: { id: job.createdBy.id, name: job.createdBy.name } },
        });
      },
    },
    {
      method: 'GET',
      path: '/crm/bulk/v2.1/write/:jobId',
      scopes: SCOPES.readJob,
      polledJson: ({ principal, params }) => deps.jobs.detailsJson(principal, params.jobId ?? ''),
    },
    {
      method: 'GET',
      path: '/v2/crm/:orgId/bulk-write/:jobId/:fileName',
      scopes: SCOPES.readJob,
      handler: async ({ reply, principal, params }) => {
        const jobId = params.jobId ?? '';
        const result = await deps.jobs.openResult(principal, params.orgId ?? '', jobId, params.fileName ?? '');
        // The SDKs need Content-Disposition with a quoted file name (official-sdk-wire.md §3).
        return reply
          .code(200)
          .header('content-type', 'application/zip')
          .header('content-length', String(result.size))
          .header('content-disposition', `attachment; filename="${jobId}.zip"`)
          .send(result.stream);
      },
    },
  ];
}
