import { createHash, randomBytes } from 'node:crypto';
import { Errors } from '../domain/errors.js';
import { ALL_SCOPES, SCOPE_PATTERN } from '../domain/scopes.js';
import type { AccessToken, Store } from '../ports/store.js';
import type { Principal } from './principal.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const recentHashes = new Map<string, string>();

/** hashToken for the tokens polls present again and again; a bounded memo, not a token store. */
function hashOfPresented(token: string): string {
  let hash = recentHashes.get(token);
  if (hash === undefined) {
    if (recentHashes.size >= 1000) recentHashes.clear();
    hash = hashToken(token);
    recentHashes.set(token, hash);
  }
  return hash;
}

/** Zoho's access-token shape, `1000.<32 hex>.<32 hex>` (reference §2.1). */
export function newTokenString(): string {
  return `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
}

export interface CreateTokenInput {
  readonly orgId: string;
  readonly userId?: string;
  readonly scopes?: readonly string[];
  readonly expiresInSeconds?: number | null;
  readonly label?: string;
}

export class TokenService {
  constructor(private readonly store: Store) {}

  /** Creates a token and returns it in clear: the only time it is ever visible (only its hash is kept). */
  async create(input: CreateTokenInput): Promise<{ token: string; record: AccessToken }> {
    const org = await this.store.getOrg(input.orgId);
    if (!org) throw new Error(`no org ${input.orgId}`);
    const users = await this.store.listUsers(org.id);
    const user = input.userId ? users.find((u) => u.id === input.userId) : users.find((u) => u.role === 'admin') ?? users[0];
    if (!user) throw new Error(`no user ${input.userId ?? ''} in org ${org.id}`);
    const scopes = input.scopes ?? ALL_SCOPES;
    const bad = scopes.filter((s) => !SCOPE_PATTERN.test(s));
    if (bad.length > 0) throw new Error(`malformed scope ${bad.join(', ')}; scopes look like ZohoCRM.bulk.ALL`);
    const token = newTokenString();
    const now = new Date();
    const record: AccessToken = {
      hash: hashToken(token),
      orgId: org.id,
      userId: user.id,
      scopes: [...scopes],
      label: input.label ?? 'cli',
      createdAt: now,
      expiresAt: input.expiresInSeconds ? new Date(now.getTime() + input.expiresInSeconds * 1000) : null,
      revokedAt: null,
    };
    await this.store.saveToken(record);
    return { token, record };
  }

  async revoke(token: string): Promise<boolean> {
    return this.store.revokeToken(hashToken(token), new Date());
  }

  /** Resolves a bearer token; unknown, expired and revoked tokens are INVALID_TOKEN (CONTRACT.md "Auth"). */
  async authenticate(token: string, now = new Date()): Promise<Principal> {
    const record = await this.store.findToken(hashOfPresented(token));
    if (!record || record.revokedAt || (record.expiresAt && record.expiresAt <= now)) throw Errors.invalidToken();
    const user = await this.store.getUser(record.orgId, record.userId);
    if (!user || !user.active) throw Errors.invalidToken();
    return { orgId: record.orgId, userId: user.id, userName: user.name, scopes: record.scopes, tokenExpiresAt: record.expiresAt };
  }
}
