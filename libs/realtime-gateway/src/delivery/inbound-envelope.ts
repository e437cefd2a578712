import { type Envelope, EnvelopeValidator } from '@realtime/transport';

export type InboundEnvelope = { ok: true; envelope: Envelope } | { ok: false; reason: string };

/** Checks envelopes arriving at the gateway against contracts/events.json (one compiled validator). */
export class InboundEnvelopeReader {
  private readonly validator = new EnvelopeValidator();

  /** Parses and validates one envelope from JSON text (a stream entry's `e` field). */
  fromJson(json: string): InboundEnvelope {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
    return this.check(value);
  }

  /** Validates an already parsed value (an element of a bridge batch). */
  check(value: unknown): InboundEnvelope {
    const verdict = this.validator.validate(value);
    return verdict.valid ? { ok: true, envelope: value as Envelope } : { ok: false, reason: verdict.reason };
  }
}
