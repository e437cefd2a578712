import type { RealtimeTarget } from '@realtime-streams/contracts';

/** Targets a report may name at most (a publisher names up to 1000, then says "all"). */
export const MAX_GAVE_UP_TARGETS = 1000;
/** Longest group name or user id in a report: the envelope schema's bound. */
const MAX_TARGET_NAME = 256;

/** Why a bridge body was refused before its envelopes were looked at (`realtime_bridge_refused_bodies_total`). */
export type BridgeBodyRefusal = 'not_json' | 'malformed' | 'bad_report';

export type BridgeBody =
  | { ok: true; envelopes: readonly unknown[]; gaveUp: readonly RealtimeTarget[] }
  | { ok: false; refusal: BridgeBodyRefusal; error: string };

/**
 * A bridge POST's body, in one of two forms: the legacy JSON array of envelopes, or
 * `{ "envelopes": [...], "gaveUp": [targets] }`, where `gaveUp` (optional, at most `MAX_GAVE_UP_TARGETS`) names the
 * targets of envelopes the publisher's lane gave up for this instance: waited past its retry bound, over its queue
 * bound, or refused. Targets are checked as the envelope schema checks them; anything else in the body is refused,
 * with the first thing wrong named. The envelopes themselves are the caller's to check.
 */
export function parseBridgeBody(text: string): BridgeBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, refusal: 'not_json', error: 'body is not JSON' };
  }
  if (Array.isArray(body)) return { ok: true, envelopes: body, gaveUp: [] };
  const shape = 'body must be a JSON array of envelopes or { "envelopes": [...], "gaveUp": [targets] }';
  if (typeof body !== 'object' || body === null) return { ok: false, refusal: 'malformed', error: shape };
  const { envelopes, gaveUp, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    return { ok: false, refusal: 'malformed', error: `${shape}; unknown field "${unknown[0].slice(0, 40)}"` };
  }
  if (!Array.isArray(envelopes))
    return { ok: false, refusal: 'malformed', error: `${shape}; envelopes is not an array` };
  if (gaveUp === undefined) return { ok: true, envelopes, gaveUp: [] };
  if (!Array.isArray(gaveUp)) return { ok: false, refusal: 'bad_report', error: 'gaveUp must be an array of targets' };
  if (gaveUp.length > MAX_GAVE_UP_TARGETS) {
    return {
      ok: false,
      refusal: 'bad_report',
      error: `gaveUp names ${gaveUp.length} targets, more than ${MAX_GAVE_UP_TARGETS} (send { "kind": "all" } instead)`,
    };
  }
  for (let i = 0; i < gaveUp.length; i++) {
    const wrong = targetError(gaveUp[i]);
    if (wrong) return { ok: false, refusal: 'bad_report', error: `gaveUp[${i}] ${wrong}` };
  }
  return { ok: true, envelopes, gaveUp: gaveUp as RealtimeTarget[] };
}

/** What is wrong with a target, or undefined: `{ kind: 'group', name }`, `{ kind: 'user', id }`, `{ kind: 'all' }`. */
function targetError(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a target object';
  const { kind, ...rest } = value as Record<string, unknown>;
  const fields = Object.keys(rest);
  if (kind === 'all') return fields.length === 0 ? undefined : 'kind all takes no other field';
  if (kind !== 'group' && kind !== 'user') return 'kind must be group, user or all';
  const field = kind === 'group' ? 'name' : 'id';
  if (fields.length !== 1 || fields[0] !== field) return `kind ${kind} takes exactly one other field, ${field}`;
  const name = rest[field];
  if (typeof name !== 'string' || name.length < 1 || name.length > MAX_TARGET_NAME) {
    return `${field} must be a string of 1 to ${MAX_TARGET_NAME} characters`;
  }
  return undefined;
}
