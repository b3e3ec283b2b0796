import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { OAuthService } from '../../services/oauth-service.js';
import { sendJson } from '../replies.js';
import type { PublicRouteDef } from '../route-table.js';

/**
 * Zoho's accounts server takes its parameters in the query string, a urlencoded body, or (as the
 * official SDKs send them) a multipart body (official-sdk-wire.md §1).
 */
async function tokenParams(request: FastifyRequest): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((request.query ?? {}) as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  if (request.isMultipart()) {
    for await (const part of request.parts()) {
      if (part.type === 'field' && typeof part.value === 'string') out[part.fieldname] = part.value;
      else if (part.type === 'file') part.file.resume();
    }
  } else if (Buffer.isBuffer(request.body)) {
    for (const [k, v] of new URLSearchParams(request.body.toString('utf8'))) out[k] = v;
  }
  return out;
}

export function oauthRoutes(oauth: OAuthService): PublicRouteDef[] {
  return [
    {
      method: 'POST',
      path: '/oauth/v2/token',
      public: true,
      // Zoho answers token errors with HTTP 200 and {"error": "..."}; clients look for access_token.
      handler: async ({ request, reply }) => sendJson(reply, 200, await oauth.exchange(await tokenParams(request))),
    },
  ];
}
