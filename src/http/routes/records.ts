import { Errors } from '../../domain/errors.js';
import { hasAnyScope } from '../../domain/scopes.js';
import type { MetadataService } from '../../services/metadata-service.js';
import type { Principal } from '../../services/principal.js';
import type { RecordPage, RecordService, SearchParams } from '../../services/record-service.js';
import { sendJson } from '../replies.js';
import type { RouteContext, RouteDef } from '../route-table.js';

export interface RecordRouteDeps {
  readonly records: RecordService;
  readonly metadata: MetadataService;
}

const SETTINGS = (what: string) => ['ZohoCRM.settings.ALL', `ZohoCRM.settings.${what}.READ`];

function requireModuleRead(principal: Principal, module: string): void {
  const m = module.toLowerCase();
  if (!hasAnyScope(principal.scopes, [`ZohoCRM.modules.${m}.READ`, 'ZohoCRM.modules.READ'])) throw Errors.oauthScopeMismatch();
}

function sendPage(ctx: RouteContext, page: RecordPage): unknown {
  // An empty result is 204 with no body, as Zoho answers (the SDKs map it to "no content").
  return page === null ? ctx.reply.code(204).send() : sendJson(ctx.reply, 200, page);
}

/** Zoho's v2.1 records, settings and users read APIs. */
export function recordRoutes(deps: RecordRouteDeps): RouteDef[] {
  return [
    {
      method: 'GET', path: '/crm/v2.1/settings/modules', scopes: SETTINGS('modules'),
      handler: async ({ reply, principal }) => sendJson(reply, 200, await deps.metadata.modules(principal)),
    },
    {
      method: 'GET', path: '/crm/v2.1/settings/fields', scopes: SETTINGS('fields'),
      handler: async ({ request, reply, principal }) =>
        sendJson(reply, 200, await deps.metadata.fields(principal, (request.query as { module?: string }).module)),
    },
    {
      method: 'GET', path: '/crm/v2.1/users', scopes: ['ZohoCRM.users.READ'],
      handler: async ({ reply, principal }) => sendJson(reply, 200, await deps.metadata.users(principal)),
    },
    {
      method: 'GET', path: '/crm/v2.1/:module', scopes: [],
      handler: async (ctx) => {
        const module = ctx.params.module ?? '';
        requireModuleRead(ctx.principal, module);
        return sendPage(ctx, await deps.records.list(ctx.principal, module, ctx.request.query as SearchParams));
      },
    },
    {
      method: 'GET', path: '/crm/v2.1/:module/search', scopes: [],
      handler: async (ctx) => {
        const module = ctx.params.module ?? '';
        requireModuleRead(ctx.principal, module);
        return sendPage(ctx, await deps.records.search(ctx.principal, module, ctx.request.query as SearchParams));
      },
    },
    {
      method: 'GET', path: '/crm/v2.1/:module/:id', scopes: [],
      handler: async (ctx) => {
        const module = ctx.params.module ?? '';
        requireModuleRead(ctx.principal, module);
        return sendJson(ctx.reply, 200, await deps.records.get(ctx.principal, module, ctx.params.id ?? ''));
      },
    },
  ];
}
