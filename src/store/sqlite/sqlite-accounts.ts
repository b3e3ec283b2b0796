import type { AccessToken, OAuthClient, OAuthGrant, Org, UploadedFile, User } from '../../ports/store.js';
import type { SqliteConnection } from './sqlite-connection.js';

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const optDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)));

/** Orgs, users, tokens, OAuth clients and grants, uploaded files: the SQLite store's plain rows. */
export class SqliteAccounts {
  private readonly orgs: (orgId: string, load: () => Org | null) => Org | null;
  /** By id alone (ids are unique across orgs); the org is checked on the way out. */
  private readonly users: (userId: string, load: () => User | null) => User | null;
  private readonly tokens: (hash: string, load: () => AccessToken | null) => AccessToken | null;

  constructor(private readonly c: SqliteConnection) {
    this.orgs = c.readCache();
    this.users = c.readCache();
    this.tokens = c.readCache();
  }

  async listOrgs(): Promise<Org[]> {
    return (this.c.sql('SELECT * FROM orgs ORDER BY created_at').all() as Row[]).map(toOrg);
  }

  async getOrg(orgId: string): Promise<Org | null> {
    return this.orgs(orgId, () => {
      const r = this.c.sql('SELECT * FROM orgs WHERE id = ?').get(orgId) as Row | undefined;
      return r ? toOrg(r) : null;
    });
  }

  async getUser(orgId: string, userId: string): Promise<User | null> {
    const user = this.users(userId, () => {
      const r = this.c.sql('SELECT * FROM users WHERE id = ?').get(userId) as Row | undefined;
      return r ? toUser(r) : null;
    });
    return user?.orgId === orgId ? user : null;
  }

  async listUsers(orgId: string): Promise<User[]> {
    return (this.c.sql('SELECT * FROM users WHERE org_id = ? ORDER BY id').all(orgId) as Row[]).map(toUser);
  }

  async saveToken(t: AccessToken): Promise<void> {
    this.c
      .sql('INSERT INTO tokens (hash, org_id, user_id, scopes, label, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(t.hash, t.orgId, t.userId, JSON.stringify(t.scopes), t.label, t.createdAt.getTime(), t.expiresAt?.getTime() ?? null,
        t.revokedAt?.getTime() ?? null);
  }

  async findToken(hash: string): Promise<AccessToken | null> {
    return this.tokens(hash, () => {
      const r = this.c.sql('SELECT * FROM tokens WHERE hash = ?').get(hash) as Row | undefined;
      return r ? toToken(r) : null;
    });
  }

  async listTokens(orgId: string): Promise<AccessToken[]> {
    return (this.c.sql('SELECT * FROM tokens WHERE org_id = ? ORDER BY created_at').all(orgId) as Row[]).map(toToken);
  }

  async revokeToken(hash: string, at: Date): Promise<boolean> {
    return this.c.sql('UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL').run(at.getTime(), hash).changes === 1;
  }

  async saveOAuthClient(c: OAuthClient): Promise<void> {
    this.c
      .sql('INSERT INTO oauth_clients (id, secret_hash, org_id, user_id, name, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(c.id, c.secretHash, c.orgId, c.userId, c.name, c.createdAt.getTime());
  }

  async findOAuthClient(id: string): Promise<OAuthClient | null> {
    const r = this.c.sql('SELECT * FROM oauth_clients WHERE id = ?').get(id) as Row | undefined;
    return r
      ? { id: str(r.id), secretHash: str(r.secret_hash), orgId: str(r.org_id), userId: str(r.user_id), name: str(r.name), createdAt: new Date(Number(r.created_at)) }
      : null;
  }

  async saveOAuthGrant(g: OAuthGrant): Promise<void> {
    this.c
      .sql('INSERT INTO oauth_grants (hash, kind, client_id, scopes, expires_at, used_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(g.hash, g.kind, g.clientId, JSON.stringify(g.scopes), g.expiresAt?.getTime() ?? null, g.usedAt?.getTime() ?? null, g.createdAt.getTime());
  }

  async findOAuthGrant(hash: string): Promise<OAuthGrant | null> {
    const r = this.c.sql('SELECT * FROM oauth_grants WHERE hash = ?').get(hash) as Row | undefined;
    return r
      ? {
          hash: str(r.hash), kind: str(r.kind) as OAuthGrant['kind'], clientId: str(r.client_id), scopes: JSON.parse(str(r.scopes)) as string[],
          expiresAt: optDate(r.expires_at), usedAt: optDate(r.used_at), createdAt: new Date(Number(r.created_at)),
        }
      : null;
  }

  async useOAuthGrant(hash: string, at: Date): Promise<boolean> {
    return this.c.sql('UPDATE oauth_grants SET used_at = ? WHERE hash = ? AND used_at IS NULL').run(at.getTime(), hash).changes === 1;
  }

  async saveFile(f: UploadedFile): Promise<void> {
    this.c
      .sql(
        `INSERT INTO files (id, org_id, user_id, blob_key, size, sha256, upload_name, csv_name, header, delimiter, encoding, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(f.id, f.orgId, f.userId, f.blobKey, f.size, f.sha256, f.uploadName, f.csvName, JSON.stringify(f.header), f.delimiter,
        f.encoding, f.createdTime.getTime());
  }

  async getFile(orgId: string, fileId: string): Promise<UploadedFile | null> {
    const r = this.c.sql('SELECT * FROM files WHERE org_id = ? AND id = ?').get(orgId, fileId) as Row | undefined;
    if (!r) return null;
    return {
      id: str(r.id), orgId: str(r.org_id), userId: str(r.user_id), blobKey: str(r.blob_key), size: Number(r.size),
      sha256: str(r.sha256), uploadName: str(r.upload_name), csvName: str(r.csv_name), header: JSON.parse(str(r.header)) as string[],
      delimiter: str(r.delimiter), encoding: str(r.encoding), createdTime: new Date(Number(r.created_at)),
    };
  }
}

function toOrg(r: Row): Org {
  return { id: str(r.id), name: str(r.name), timeZone: str(r.time_zone) };
}

function toUser(r: Row): User {
  return { id: str(r.id), orgId: str(r.org_id), name: str(r.name), email: str(r.email), role: str(r.role), active: r.active === 1 };
}

function toToken(r: Row): AccessToken {
  return {
    hash: str(r.hash), orgId: str(r.org_id), userId: str(r.user_id), scopes: JSON.parse(str(r.scopes)) as string[],
    label: str(r.label), createdAt: new Date(Number(r.created_at)), expiresAt: optDate(r.expires_at), revokedAt: optDate(r.revoked_at),
  };
}

