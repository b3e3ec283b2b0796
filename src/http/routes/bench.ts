import type { PublicRouteDef } from '../route-table.js';
import { JSON_CONTENT_TYPE } from '../replies.js';

/**
 * Only with `serve --bench-routes`: a route with no auth and no store that answers fixed bytes,
 * the baseline `npm run bench` compares job-details throughput with (same process, same bytes).
 */
export function benchRoutes(): PublicRouteDef[] {
  let body = Buffer.from('{}');
  return [
    {
      method: 'PUT',
      path: '/bulkwright/bench/bytes',
      public: true,
      handler: async ({ request, reply }) => {
        body = Buffer.isBuffer(request.body) ? Buffer.from(request.body) : Buffer.from('{}');
        return reply.code(204).send();
      },
    },
    {
      method: 'GET',
      path: '/bulkwright/bench/bytes',
      public: true,
      handler: async ({ reply }) => reply.code(200).header('content-type', JSON_CONTENT_TYPE).send(body),
    },
  ];
}
