/**
 * `scheme://userinfo@`: the userinfo runs to the last `@` before whitespace, a quote or a list separator, so a
 * password holding an unencoded `@` or `/` is covered whole. A path with an `@` is redacted too: better one URL
 * too many than one password shown.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>,;]*)@/gi;
/** Query parameters that carry credentials (`postgres://db/chat?password=...`, `?access_token=...`). */
const SECRET_PARAMETER =
  /([?&](?:password|passwd|pwd|pass|secret|token|access_token|auth|apikey|api_key)=)[^&#\s"'<>,;]*/gi;

/**
 * The text with the credentials of every URL in it replaced by `***`: `redis://:hunter2@host` becomes
 * `redis://:***@host`, `http://user:pw@host` becomes `http://user:***@host`. A user name alone is hidden too
 * (`redis://secret@host` is a password to ioredis). Anything may be passed: a URL, an error message, a log line.
 */
export function redactUrl(text: string): string {
  if (!text.includes('://') && !text.includes('=')) return text;
  return text
    .replace(USERINFO, (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon > 0 ? `${scheme}${userinfo.slice(0, colon)}:***@` : `${scheme}${colon === 0 ? ':' : ''}***@`;
    })
    .replace(SECRET_PARAMETER, '$1***');
}
