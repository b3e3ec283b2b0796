import type { FastifyRequest } from 'fastify';
import { Errors } from '../domain/errors.js';
import { hasAnyScope } from '../domain/scopes.js';
import type { Principal } from '../services/principal.js';
import type { TokenService } from '../services/token-service.js';

// Both schemes are accepted: the SDKs send Zoho-oauthtoken, Zoho's Postman collection Bearer (reference §2.1).
const AUTH_HEADER = /^(?:Zoho-oauthtoken|Bearer)\s+(\S+)\s*$/i;

/** Token → principal; a missing or malformed header is AUTHENTICATION_FAILURE, a bad token INVALID_TOKEN. */
export async function authenticate(request: FastifyRequest, tokens: TokenService, scopes: readonly string[]): Promise<Principal> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? AUTH_HEADER.exec(header) : null;
  if (!match) throw Errors.authenticationFailure();
  const principal = await tokens.authenticate(match[1] as string);
  if (scopes.length > 0 && !hasAnyScope(principal.scopes, scopes)) throw Errors.oauthScopeMismatch();
  return principal;
}
