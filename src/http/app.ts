import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Errors, ZohoError } from '../domain/errors.js';
import { formatZohoTime } from '../domain/time.js';
import type { TokenService } from '../services/token-service.js';
import { authenticate } from './auth.js';
import { JSON_CONTENT_TYPE, sendError } from './replies.js';
import { knownPathMatcher, pathPattern, type PublicRouteDef, type RouteDef } from './route-table.js';

export interface AppOptions {
  readonly routes: readonly (RouteDef | PublicRouteDef)[];
  readonly tokens: TokenService;
  readonly maxUploadBytes: number;
  readonly maxJsonBytes: number;
  readonly orgTimeZone: (orgId: string) => Promise<string>;
  /** Store.readStamp: polled answers are given again while it holds (route-table.ts PolledRouteDef). */
  readonly readStamp: () => object | null;
  readonly logger: FastifyServerOptions['logger'];
}

/** A polled route's last answer to one Authorization header and URL. */
interface PolledAnswer {
  readonly stamp: object;
  readonly body: Buffer;
  /** The x-accesstoken-reset header it carried, if the token expires. */
  readonly reset: string | null;
  /** When the token expires (ms), after which the answer is no longer given. */
  readonly expiresAt: number | null;
}

const POLLED_ANSWERS_LIMIT = 10_000;

// Headers Zoho's CRM front-ends send on every answer (seed-job-details.txt captures).
const STANDARD_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-cache',
  pragma: 'no-cache',
  expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'x-xss-protection': '1; mode=block',
  'referrer-policy': 'strict-origin',
};

/** The Fastify app: one route table, one auth step, one error serialiser (DESIGN.md "http/"). */
export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: o.logger,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: o.maxJsonBytes,
    requestIdHeader: false,
    // Shutting down must not wait for clients that keep a connection open.
    forceCloseConnections: true,
    genReqId: () => crypto.randomUUID(),
    // A path Fastify cannot decode (`/%zz`) is refused before routing and hooks: answered as any
    // unknown path is, not with Fastify's own error body.
    frameworkErrors: (error, _request, reply) => {
      reply.headers(STANDARD_HEADERS);
      sendError(reply, error.code === 'FST_ERR_BAD_URL' ? Errors.invalidUrlPattern() : Errors.internal());
    },
  });

  // Create-job bodies are JSON whatever their Content-Type (CONTRACT.md), so every non-multipart
  // body is read raw and parsed by the handler, which then says precisely what is wrong.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: Math.min(o.maxUploadBytes + 1, Number.MAX_SAFE_INTEGER), files: 1, fields: 10 } });

  // Set before any handler runs (a handler's own value then replaces one) by a callback hook: an
  // async onSend hook cost every answer a promise and a pass over the headers.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(STANDARD_HEADERS);
    done();
  });

  const isKnownPath = knownPathMatcher(o.routes);
  app.setNotFoundHandler(async (request, reply) => {
    sendError(reply, isKnownPath(request.url) ? Errors.invalidRequestMethod() : Errors.invalidUrlPattern());
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof ZohoError) return sendError(reply, error);
    const code = (error as { code?: string }).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(reply, Errors.invalidData(`the request body is larger than ${o.maxJsonBytes} bytes`, { json_path: '$' }));
    }
    if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || code === 'FST_NO_FORM_DATA' || code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT') {
      return sendError(reply, Errors.invalidData(`the multipart body could not be read: ${error instanceof Error ? error.message : ''}`, { api_name: 'file' }));
    }
    request.log.error({ err: error, reqId: request.id }, 'unexpected error');
    return sendError(reply, Errors.internal());
  });

  // A parametric route (`/crm/v2.1/:module`) also matches the path of a static route with another
  // method (`POST /crm/v2.1/upload`); such a request has the wrong method, not an unknown module.
  const staticMethods = new Map<string, Set<string>>();
  for (const r of o.routes) {
    if (!r.path.includes(':')) staticMethods.set(r.path, (staticMethods.get(r.path) ?? new Set()).add(r.method));
  }

  for (const route of o.routes) {
    // Worked out once here: most parametric routes can match no static path, and the check cost
    // every job-details poll a split and a regex replace.
    const pattern = route.path.includes(':') ? pathPattern(route.path) : null;
    const shadowed = pattern ? [...staticMethods.keys()].filter((p) => pattern.test(p)) : [];
    const answers = new Map<string, PolledAnswer>();
    app.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        if (route.public) return route.handler({ request, reply, params: request.params as Record<string, string> });
        // Taken before any read: an answer kept with it is at least as new as what it stands for.
        const stamp = 'polledJson' in route ? o.readStamp() : null;
        const key = stamp === null ? '' : `${request.headers.authorization ?? ''} ${request.url}`;
        if (stamp !== null) {
          const kept = answers.get(key);
          if (kept !== undefined && kept.stamp === stamp && (kept.expiresAt === null || kept.expiresAt > Date.now())) {
            if (kept.reset !== null) reply.header('x-accesstoken-reset', kept.reset);
            return reply.code(200).header('content-type', JSON_CONTENT_TYPE).send(kept.body);
          }
        }
        const methods = shadowed.length > 0 ? staticMethods.get((request.url.split('?')[0] ?? '').replace(/\/+$/, '')) : undefined;
        if (methods && !methods.has(request.method)) throw Errors.invalidRequestMethod();
        const principal = await authenticate(request, o.tokens, route.scopes);
        let reset: string | null = null;
        if (principal.tokenExpiresAt) {
          reset = formatZohoTime(principal.tokenExpiresAt, await o.orgTimeZone(principal.orgId));
          reply.header('x-accesstoken-reset', reset);
        }
        const ctx = { request, reply, principal, params: request.params as Record<string, string> };
        if (!('polledJson' in route)) return route.handler(ctx);
        const body = await route.polledJson(ctx);
        if (stamp !== null) {
          if (answers.size >= POLLED_ANSWERS_LIMIT) answers.clear();
          answers.set(key, { stamp, body, reset, expiresAt: principal.tokenExpiresAt?.getTime() ?? null });
        }
        return reply.code(200).header('content-type', JSON_CONTENT_TYPE).send(body);
      },
    });
  }
  return app;
}
