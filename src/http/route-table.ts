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

export interface RouteDef {
  readonly public?: false;
  readonly method: HttpMethod;
  /** Fastify path pattern, e.g. `/crm/bulk/v2.1/write/:jobId`. */
  readonly path: string;
  /** Any one of these scopes grants access; empty = no token needed. */
  readonly scopes: readonly string[];
  readonly handler: (ctx: RouteContext) => Promise<unknown>;
}

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
