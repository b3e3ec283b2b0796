import { ClientConfigError } from './errors.js';

/** The three hosts a Bulk Write client talks to: the API, the upload ("content") host and the accounts server. */
export interface Domains {
  readonly api: string;
  readonly upload: string;
  readonly accounts: string;
}

/** Zoho's US data centre, the SDKs' default (reference §1: data centres). */
export const ZOHO_US: Domains = {
  api: 'https://www.zohoapis.com',
  upload: 'https://content.zohoapis.com',
  accounts: 'https://accounts.zoho.com',
};

export interface DomainInput {
  readonly apiDomain?: string | undefined;
  readonly uploadDomain?: string | undefined;
  readonly accountsDomain?: string | undefined;
}

// www/sandbox/developer.zohoapis.<tld> upload to content.zohoapis.<tld> and sign in at accounts.zoho.<tld>.
const ZOHO_API_HOST = /^(?:www|sandbox|developer)\.zohoapis\.([a-z.]+)$/i;

const trim = (url: string): string => url.trim().replace(/\/+$/, '');

/**
 * Fills in the hosts not given: from a Zoho API domain, that data centre's upload and accounts
 * hosts; from any other API domain (a Bulkwright server serves all three paths on one origin), the
 * same origin; with nothing given, Zoho US.
 */
export function resolveDomains(input: DomainInput): Domains {
  if (!input.apiDomain) {
    return {
      api: ZOHO_US.api,
      upload: input.uploadDomain ? trim(input.uploadDomain) : ZOHO_US.upload,
      accounts: input.accountsDomain ? trim(input.accountsDomain) : ZOHO_US.accounts,
    };
  }
  const api = trim(input.apiDomain);
  let host = '';
  try {
    host = new URL(api).hostname;
  } catch {
    throw new ClientConfigError(`the API domain ${api} is not a URL (expected e.g. https://www.zohoapis.com)`);
  }
  const tld = ZOHO_API_HOST.exec(host)?.[1];
  return {
    api,
    upload: input.uploadDomain ? trim(input.uploadDomain) : tld ? `https://content.zohoapis.${tld}` : api,
    accounts: input.accountsDomain ? trim(input.accountsDomain) : tld ? `https://accounts.zoho.${tld}` : api,
  };
}

/** True for Zoho's own API hosts, where Bulkwright's extensions (e.g. listing jobs) do not exist. */
export function isZohoApiDomain(apiDomain: string): boolean {
  try {
    return /(^|\.)zohoapis\.[a-z.]+$/i.test(new URL(apiDomain).hostname);
  } catch {
    return false;
  }
}
