import { InvalidRealtimeConfigError } from '@realtime-streams/transport';

// The reference service's own variables (PORT, DATABASE_*, ROOMS_OPEN...); the libraries' come from their schemas.

/** Environment variables as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new InvalidRealtimeConfigError(name, value, 'true or false');
}

export function readNumber(env: Env, name: string, fallback: number, min: number, max: number, integer = true): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  const kind = integer ? 'an integer' : 'a number';
  if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || parsed < min || parsed > max) {
    throw new InvalidRealtimeConfigError(name, value, `${kind} between ${min} and ${max}`);
  }
  return parsed;
}

export function readString(env: Env, name: string): string | undefined {
  return raw(env, name);
}

/** A comma-separated list of absolute URLs whose protocol is one of `protocols`. */
export function readUrls(env: Env, name: string, protocols: readonly string[]): string[] | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => checkUrl(name, part, protocols));
}

export function readUrl(env: Env, name: string, fallback: string, protocols: readonly string[]): string {
  const value = raw(env, name);
  return value === undefined ? fallback : checkUrl(name, value, protocols);
}

export function checkUrl(setting: string, value: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidRealtimeConfigError(setting, value, `a URL (${protocols.join(' or ')})`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new InvalidRealtimeConfigError(setting, value, `a URL starting with ${protocols.join(' or ')}//`);
  }
  return value;
}
