import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { BulkwrightClient, type ClientOptions } from '@bulkwright/client';
import type { Command } from 'commander';
import { UsageError } from './cli-exit.js';

/** Connection flags shared by import, job, result and jobs (commander's camelCase names). */
export interface ConnectionFlags {
  readonly apiDomain?: string;
  readonly uploadDomain?: string;
  readonly accountsDomain?: string;
  readonly token?: string;
  readonly org?: string;
  readonly profileFile?: string;
}

/** What a profile file may hold; `access_token`/`org_id` are read too, so `data/dev-credentials.json` is a profile. */
interface Profile {
  api_domain?: string;
  upload_domain?: string;
  accounts_domain?: string;
  token?: string;
  access_token?: string;
  org?: string;
  org_id?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
}

export function addConnectionOptions(command: Command): Command {
  return command
    .option('--api-domain <url>', 'API base URL (env BULKWRIGHT_API_DOMAIN; default http://127.0.0.1:8080)')
    .option('--upload-domain <url>', 'upload base URL (env BULKWRIGHT_UPLOAD_DOMAIN; default: from the API domain)')
    .option('--accounts-domain <url>', 'accounts server for the refresh-token flow (env BULKWRIGHT_ACCOUNTS_DOMAIN)')
    .option('--token <token>', 'access token (env BULKWRIGHT_TOKEN)')
    .option('--org <id>', 'org id sent as X-CRM-ORG on uploads (env BULKWRIGHT_ORG)')
    .option('--profile-file <file>', 'JSON profile with these settings (env BULKWRIGHT_PROFILE_FILE)');
}

/** The profile file named, else ~/.config/bulkwright/profile.json, else a local server's ./data/dev-credentials.json. */
function profilePath(flags: ConnectionFlags, env: NodeJS.ProcessEnv): { file: string; explicit: boolean } | null {
  const named = flags.profileFile ?? env.BULKWRIGHT_PROFILE_FILE;
  if (named) return { file: named, explicit: true };
  const configHome = env.XDG_CONFIG_HOME || path.join(env.HOME ?? homedir(), '.config');
  for (const file of [path.join(configHome, 'bulkwright', 'profile.json'), path.join('data', 'dev-credentials.json')]) {
    if (existsSync(file)) return { file, explicit: false };
  }
  return null;
}

async function readProfile(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Promise<Profile> {
  const found = profilePath(flags, env);
  if (!found) return {};
  let text: string;
  try {
    text = await readFile(found.file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the profile file ${found.file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    const strings = Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
    return Object.fromEntries(strings) as Profile;
  } catch (e) {
    throw new UsageError(`the profile file ${found.file} is not a JSON object of settings: ${e instanceof Error ? e.message : String(e)}`);
  }
}

type Credentials = Pick<ClientOptions, 'accessToken' | 'refreshToken' | 'clientId' | 'clientSecret'>;

/**
 * Credentials come whole from the first source that has any (flags, then env, then the profile),
 * so a token given on the command line is never silently replaced by a profile's refresh token.
 */
function credentialsFrom(flags: ConnectionFlags, env: NodeJS.ProcessEnv, profile: Profile): Credentials {
  const sources: Credentials[] = [
    { accessToken: flags.token },
    { accessToken: env.BULKWRIGHT_TOKEN, refreshToken: env.BULKWRIGHT_REFRESH_TOKEN, clientId: env.BULKWRIGHT_CLIENT_ID, clientSecret: env.BULKWRIGHT_CLIENT_SECRET },
    { accessToken: profile.access_token ?? profile.token, refreshToken: profile.refresh_token, clientId: profile.client_id, clientSecret: profile.client_secret },
  ];
  const found = sources.find((s) => Object.values(s).some((v) => typeof v === 'string' && v !== ''));
  if (!found) {
    throw new UsageError('no credentials: give --token, set BULKWRIGHT_TOKEN (or BULKWRIGHT_REFRESH_TOKEN, BULKWRIGHT_CLIENT_ID and BULKWRIGHT_CLIENT_SECRET), or write a profile file');
  }
  return Object.fromEntries(Object.entries(found).filter(([, v]) => typeof v === 'string' && v !== '')) as Credentials;
}

/** Client options from flags, then `BULKWRIGHT_*` env, then a profile file. */
export async function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<ClientOptions> {
  const profile = await readProfile(flags, env);
  const pick = (flag: string | undefined, envName: string, fromProfile: string | undefined): string | undefined =>
    flag || env[envName] || fromProfile || undefined;
  return {
    apiDomain: pick(flags.apiDomain, 'BULKWRIGHT_API_DOMAIN', profile.api_domain),
    uploadDomain: pick(flags.uploadDomain, 'BULKWRIGHT_UPLOAD_DOMAIN', profile.upload_domain),
    accountsDomain: pick(flags.accountsDomain, 'BULKWRIGHT_ACCOUNTS_DOMAIN', profile.accounts_domain),
    orgId: pick(flags.org, 'BULKWRIGHT_ORG', profile.org ?? profile.org_id),
    ...credentialsFrom(flags, env, profile),
  };
}

export async function connect(flags: ConnectionFlags): Promise<BulkwrightClient> {
  return new BulkwrightClient(await resolveConnection(flags));
}
