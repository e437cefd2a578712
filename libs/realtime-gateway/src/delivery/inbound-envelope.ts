import { type Envelope, EnvelopeValidator, exceedsJsonDepth } from '@realtime-streams/contracts';
import type { EnvelopeRejection } from '../metrics/realtime-gateway.metrics';
import type { EnvelopeLimitOptions } from '../realtime-gateway-options.interface';

/** A checked envelope carries its args as JSON: serialized once, here, and reused for every recipient's frame. */
export type InboundEnvelope =
  { ok: true; envelope: Envelope; argsJson: string } | { ok: false; reason: string; rejection: EnvelopeRejection };

/**
 * What an envelope holds besides its args, with room to spare: the schema bounds every other field (id 64, type 200,
 * target 256, method 128 characters), even written with \u escapes. A stream entry longer than the args cap plus
 * this is refused without being parsed.
 */
export const ENTRY_OVERHEAD_ALLOWANCE = 16 * 1024;

const CAP_NAMES = 'envelopes.maxArgsBytes, REALTIME_MAX_ARGS_BYTES';

/** A UTF-16 string of n units never takes more than 3n bytes in UTF-8, nor fewer than n. */
const MAX_UTF8_BYTES_PER_UNIT = 3;

/**
 * Checks envelopes arriving at the gateway, in this order: the envelope schema (one compiled validator), the depth
 * of `args` (iteratively, before anything recursive touches them), then the UTF-8 size of `args` serialized.
 */
export class InboundEnvelopeReader {
  private readonly validator = new EnvelopeValidator();
  private readonly maxEntryLength: number;

  constructor(private readonly limits: Required<EnvelopeLimitOptions>) {
    this.maxEntryLength = limits.maxArgsBytes + ENTRY_OVERHEAD_ALLOWANCE;
  }

  /** Parses and checks one envelope from JSON text (a stream entry's `e` field); an oversized one is not parsed. */
  fromJson(json: string): InboundEnvelope {
    // Its length in UTF-16 units is at most its size in UTF-8.
    if (json.length > this.maxEntryLength) {
      const reason =
        `entry is ${json.length} characters, more than args of at most ${this.limits.maxArgsBytes} bytes ` +
        `(${CAP_NAMES}) and ${ENTRY_OVERHEAD_ALLOWANCE} for the other fields; not parsed`;
      return { ok: false, reason, rejection: 'too_large' };
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      return { ok: false, reason: 'not JSON', rejection: 'invalid' };
    }
    return this.check(value);
  }

  /** Checks an already parsed value (an element of a bridge batch). */
  check(value: unknown): InboundEnvelope {
    const verdict = this.validator.validate(value);
    if (!verdict.valid) return { ok: false, reason: verdict.reason, rejection: 'invalid' };
    const envelope = value as Envelope;
    const { maxArgsBytes, maxArgsDepth } = this.limits;
    if (exceedsJsonDepth(envelope.args, maxArgsDepth)) {
      return {
        ok: false,
        reason: `args are nested deeper than ${maxArgsDepth} levels (envelopes.maxArgsDepth, REALTIME_MAX_ARGS_DEPTH)`,
        rejection: 'too_deep',
      };
    }
    const argsJson = JSON.stringify(envelope.args);
    if (argsJson.length * MAX_UTF8_BYTES_PER_UNIT > maxArgsBytes) {
      const bytes = Buffer.byteLength(argsJson, 'utf8');
      if (bytes > maxArgsBytes) {
        const reason = `args are ${bytes} bytes, over the limit of ${maxArgsBytes} bytes (${CAP_NAMES})`;
        return { ok: false, reason, rejection: 'too_large' };
      }
    }
    return { ok: true, envelope, argsJson };
  }
}
