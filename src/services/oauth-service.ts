import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ALL_SCOPES, SCOPE_PATTERN } from '../domain/scopes.js';
import type { Store } from '../ports/store.js';
import { hashToken, TokenService } from './token-service.js';

export const ACCESS_TOKEN_SECONDS = 3600;

export interface SelfClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly code: string;
  readonly expires_in: number;
  readonly scopes: readonly string[];
}

export type TokenAnswer =
  | { readonly access_token: string; readonly refresh_token?: string; readonly api_domain: string; readonly token_type: 'Bearer'; readonly expires_in: number }
  | { readonly error: string };

/**
 * The accounts server's token endpoint, as Zoho's "self client" flow uses it: a grant code becomes
 * an access token and a refresh token; a refresh token becomes new access tokens.
 */
export class OAuthService {
  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
    private readonly apiDomain: () => string,
  ) {}

  async createSelfClient(input: { orgId: string; userId?: string; name?: string; scopes?: readonly string[]; codeSeconds?: number }): Promise<SelfClient> {
    const users = await this.store.listUsers(input.orgId);
    const user = input.userId ? users.find((u) => u.id === input.userId) : users.find((u) => u.role === 'admin') ?? users[0];
    if (!user) throw new Error(`no user ${input.userId ?? ''} in org ${input.orgId}`);
    const scopes = [...(input.scopes ?? ALL_SCOPES)];
    const bad = scopes.filter((s) => !SCOPE_PATTERN.test(s));
    if (bad.length > 0) throw new Error(`malformed scope ${bad.join(', ')}; scopes look like ZohoCRM.bulk.ALL`);
    const clientId = `1000.${randomBytes(15).toString('hex').toUpperCase().slice(0, 30)}`;
    const secret = randomBytes(21).toString('hex');
    const now = new Date();
    await this.store.saveOAuthClient({ id: clientId, secretHash: hashToken(secret), orgId: input.orgId, userId: user.id, name: input.name ?? 'Self Client', createdAt: now });
    const codeSeconds = input.codeSeconds ?? 600;
    const code = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
    await this.store.saveOAuthGrant({
      hash: hashToken(code), kind: 'code', clientId, scopes, expiresAt: new Date(now.getTime() + codeSeconds * 1000), usedAt: null, createdAt: now,
    });
    return { client_id: clientId, client_secret: secret, code, expires_in: codeSeconds, scopes };
  }

  async exchange(params: Readonly<Record<string, string | undefined>>): Promise<TokenAnswer> {
    const grantType = params.grant_type;
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return { error: 'unsupported_grant_type' };
    const client = params.client_id ? await this.store.findOAuthClient(params.client_id) : null;
    if (!client || !params.client_secret || !sameHash(client.secretHash, hashToken(params.client_secret))) return { error: 'invalid_client' };
    const presented = grantType === 'authorization_code' ? params.code : params.refresh_token;
    const grant = presented ? await this.store.findOAuthGrant(hashToken(presented)) : null;
    const now = new Date();
    const expectedKind = grantType === 'authorization_code' ? 'code' : 'refresh';
    if (!grant || grant.kind !== expectedKind || grant.clientId !== client.id || (grant.expiresAt && grant.expiresAt <= now)) {
      return { error: 'invalid_code' };
    }
    if (grant.kind === 'code' && !(await this.store.useOAuthGrant(grant.hash, now))) return { error: 'invalid_code' };
    if (grant.kind === 'refresh' && grant.usedAt) return { error: 'invalid_code' };
    const access = await this.tokens.create({
      orgId: client.orgId, userId: client.userId, scopes: grant.scopes, expiresInSeconds: ACCESS_TOKEN_SECONDS, label: `oauth:${client.id}`,
    });
    const base = { access_token: access.token, api_domain: this.apiDomain(), token_type: 'Bearer' as const, expires_in: ACCESS_TOKEN_SECONDS };
    if (grant.kind === 'refresh') return base;
    const refresh = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
    await this.store.saveOAuthGrant({ hash: hashToken(refresh), kind: 'refresh', clientId: client.id, scopes: grant.scopes, expiresAt: null, usedAt: null, createdAt: now });
    return { access_token: base.access_token, refresh_token: refresh, api_domain: base.api_domain, token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS };
  }
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
