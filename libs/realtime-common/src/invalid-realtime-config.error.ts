import { redactUrl } from './redact-url';

/** Longest value a message quotes; a longer one is cut (a PEM key or a list of URLs would drown the point). */
const MAX_SHOWN = 120;

export interface ConfigProblemDetails {
  /** What to do about it, one sentence: which variable or option to set, and to what. */
  fix?: string;
  /** The value is a secret: the message gives its length, never the value. */
  secret?: boolean;
}

/**
 * A configuration value is out of range or unparsable. Thrown at start-up (or on reload) so a bad value never runs.
 * The message names the setting (environment variable and option path), says what was expected and what came, and
 * how to fix it; credentials in URLs and secret values never appear in it.
 */
export class InvalidRealtimeConfigError extends Error {
  /** The value as the message shows it: credentials redacted, secrets hidden. */
  readonly value: unknown;

  constructor(
    /** The env variable and/or option path that holds the bad value, e.g. `REDIS_URL (redis.url)`. */
    readonly setting: string,
    value: unknown,
    expected: string,
    details: ConfigProblemDetails = {},
  ) {
    const shown = showValue(value, details.secret ?? false);
    super(
      `Invalid realtime configuration: ${setting} must be ${expected}, got ${shown}.` +
        (details.fix ? ` ${details.fix}` : ''),
    );
    this.name = 'InvalidRealtimeConfigError';
    this.value = details.secret ? shown : redactDeep(value);
  }
}

/** The value as a message quotes it: JSON, credentials in URLs redacted, long values cut, secrets by length only. */
export function showValue(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (secret && value !== '') {
    return typeof value === 'string'
      ? `a secret of ${Buffer.byteLength(value, 'utf8')} bytes (not shown)`
      : '(not shown)';
  }
  if (typeof value === 'function') return 'a function';
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // A cycle or a bigint: its kind says enough.
  }
  const redacted = redactUrl(json ?? `a ${typeof value}`);
  return redacted.length > MAX_SHOWN ? `${redacted.slice(0, MAX_SHOWN)}... (${redacted.length} characters)` : redacted;
}

function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  return value;
}
