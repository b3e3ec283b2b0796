import { STANDARD_MODULES } from '../domain/standard-modules.js';
import type { Org, Store, User } from '../ports/store.js';
import { TokenService } from './token-service.js';

export interface SetupOptions {
  readonly orgName: string;
  readonly adminName: string;
  readonly adminEmail: string;
  readonly timeZone: string;
}

export interface SetupResult {
  readonly org: Org;
  readonly admin: User;
  /** Set only when the org was created now: the one moment its first token is visible. */
  readonly token: string | null;
}

/** First start on an empty data dir: one org, its admin, the standard modules and a full-scope token. */
export class SetupService {
  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
  ) {}

  /** The first org, created now if there is none; of processes starting together on an empty store, one creates it. */
  async ensureOrg(options: SetupOptions): Promise<SetupResult> {
    const existing = await this.firstOrg();
    if (existing) return existing;
    return (await this.create(options, true)) ?? (await this.firstOrg()) ?? Promise.reject(new Error('no org after creating the first one'));
  }

  async createOrg(options: SetupOptions): Promise<SetupResult & { token: string }> {
    const created = await this.create(options, false);
    if (!created) throw new Error('the org was not created');
    return created;
  }

  private async firstOrg(): Promise<SetupResult | null> {
    const existing = (await this.store.listOrgs())[0];
    if (!existing) return null;
    const users = await this.store.listUsers(existing.id);
    const admin = users.find((u) => u.role === 'admin') ?? users[0];
    if (!admin) throw new Error(`org ${existing.id} has no users`);
    return { org: existing, admin, token: null };
  }

  /** null when `onlyIfFirst` and another process created an org first. */
  private async create(options: SetupOptions, onlyIfFirst: boolean): Promise<(SetupResult & { token: string }) | null> {
    const [orgId, userId] = (await this.store.allocateIds(2)) as [string, string];
    const org: Org = { id: orgId, name: options.orgName, timeZone: options.timeZone };
    const admin: User = { id: userId, orgId, name: options.adminName, email: options.adminEmail, role: 'admin', active: true };
    if (!(await this.store.createOrg({ org, admin, modules: STANDARD_MODULES }, { onlyIfFirst }))) return null;
    const { token } = await this.tokens.create({ orgId, userId, label: 'dev-credentials' });
    return { org, admin, token };
  }
}
