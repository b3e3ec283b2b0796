import { StoreUnavailableError } from '../../ports/store.js';

/**
 * SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), an administrator's
 * or a crash's shutdown (57P01, 57P02), a server starting up (57P03), too many connections (53300).
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Node's codes for a socket that could not connect or was cut. */
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** What pg says, without a code, of a connection that ended or never came. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
];

/** Whether `e`, from pg or its socket, says PostgreSQL could not be reached or could not answer for now. */
export function isPgUnavailable(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true;
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || SOCKET_CODES.has(code))) return true;
  return PG_CONNECTION_MESSAGES.some((m) => e.message.startsWith(m));
}
