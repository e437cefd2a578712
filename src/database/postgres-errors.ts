import { DatabaseUnavailableError } from './database-unavailable.error';

/** Socket errors of a server that is down, unreachable or gone mid-query. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * SQLSTATEs that say "not now" rather than "wrong request": connection exceptions (08), insufficient resources
 * (53, e.g. too many connections), operator intervention (57: shutdown, crash recovery, a cancelled statement), and
 * a database or login the server no longer accepts (3D000, 28).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|28)|^3D000$/;

/** node-postgres reports these without a code; its messages have been stable across 8.x. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Cannot use a pool after calling end|Client has encountered a connection error|Client was closed/;

/** Whether the error means the database is unavailable (answer 503), as opposed to a bug or a refused statement. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  return UNAVAILABLE_MESSAGE.test(error.message);
}
