import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../services/principal.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly principal: Principal;
  readonly params: Readonly<Record<string, string>>;
}

/** A route no token is needed for (the accounts server's token endpoint). */
export interface PublicRouteDef {
  readonly method: HttpMethod;
  readonly path: string;
  readonly public: true;
  readonly handler: (ctx: Omit<RouteContext, 'principal'>) => Promise<unknown>;
}

interface ProtectedRoute {
  readonly public?: false;
  readonly method: HttpMethod;
  /** Fastify path pattern, e.g. `/crm/bulk/v2.1/write/:jobId`. */
  readonly path: string;
  /** Any one of these scopes grants access; empty = no token needed. */
  readonly scopes: readonly string[];
}

/** A route that answers through the reply itself. */
export interface HandlerRouteDef extends ProtectedRoute {
  readonly handler: (ctx: RouteContext) => Promise<unknown>;
}

/**
 * A GET that clients poll again and again (job details): its 200 answer is JSON bytes that depend
 * only on the caller's token, the URL and what the store holds. The app keeps each answer per
 * Authorization header and URL, and gives it again while the store reports nothing written since
 * (Store.readStamp) and the token has not expired: no auth step, no store read, no service call.
 */
export interface PolledRouteDef extends ProtectedRoute {
  readonly method: 'GET';
  readonly polledJson: (ctx: RouteContext) => Promise<Buffer>;
}

export type RouteDef = HandlerRouteDef | PolledRouteDef;

/** Regexes of every known path, so a known path with a wrong method is told apart from an unknown one. */
export function knownPathMatcher(routes: readonly (RouteDef | PublicRouteDef)[]): (url: string) => boolean {
  const patterns = routes.map((r) => pathPattern(r.path));
  return (url) => {
    const path = url.split('?')[0] ?? url;
    return patterns.some((p) => p.test(path));
  };
}

/** The paths a Fastify path pattern matches (`:name` is one segment), with or without a trailing slash. */
export function pathPattern(path: string): RegExp {
  return new RegExp(`^${path.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}/?$`);
}
