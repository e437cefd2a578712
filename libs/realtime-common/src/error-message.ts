import { redactUrl } from './redact-url';

/**
 * The message of anything thrown, for logs and health details, with the credentials of any URL in it redacted
 * (a client library's error may quote the URL it was given).
 */
export function errorMessage(error: unknown): string {
  return redactUrl(error instanceof Error ? error.message : String(error));
}
