import { epochMs, exceedsJsonDepth, targetKeyOf } from '@realtime-streams/contracts';
import type { RealtimeEventOptions } from '../decorators/realtime-event.decorator';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large.error';
import { InvalidEnvelopeError } from '../errors/invalid-envelope.error';
import { errorMessage } from '@realtime-streams/common';
import type { Envelope, EnvelopeValidator, OutboundEnvelope } from '@realtime-streams/contracts';
import type { EventIdGenerator } from './event-id.generator';

/** Cheap pre-check: a UTF-16 string of n units never takes more than 3n bytes in UTF-8. */
const MAX_UTF8_BYTES_PER_UNIT = 3;

/** Bounds of an envelope's `args`, the same on the publisher and the gateway. */
export interface EnvelopeLimits {
  /** Largest serialized args, UTF-8 bytes (`REALTIME_MAX_ARGS_BYTES`). */
  maxArgsBytes: number;
  /** Deepest nesting of args, the args array being level 1 (`REALTIME_MAX_ARGS_DEPTH`). */
  maxArgsDepth: number;
}

/**
 * Turns a domain event into a validated, serialized envelope. Everything that can be wrong with an event is found
 * here, at publish time, so transports only ever see envelopes that match the contract.
 */
export class EnvelopeMapper {
  constructor(
    private readonly validator: EnvelopeValidator,
    private readonly ids: EventIdGenerator,
    private readonly limits: EnvelopeLimits,
    private readonly clock: () => number = epochMs,
  ) {}

  /** @throws InvalidEnvelopeError or EnvelopeTooLargeError; the event must then not be published. */
  map<E extends object>(event: E, options: RealtimeEventOptions<E>): OutboundEnvelope {
    const type = options.type ?? event.constructor.name;
    const target = call(type, 'to', () => options.to(event));
    const args = options.args ? call(type, 'args', () => options.args!(event)) : [event];
    const ts = this.clock();
    const seq = options.sequence ? call(type, 'sequence', () => options.sequence!(event)) : undefined;
    const envelope: Envelope = {
      v: 1,
      id: this.ids.next(ts),
      type,
      target,
      method: options.method,
      args,
      ts,
      volatile: options.volatile ?? options.coalesce !== undefined,
      ...(seq === undefined ? {} : { seq }),
    };
    const verdict = this.validator.validate(envelope);
    if (!verdict.valid) throw new InvalidEnvelopeError(type, verdict.reason);
    // Before JSON.stringify, whose recursion overflows the stack on deep (or circular) args.
    if (exceedsJsonDepth(args, this.limits.maxArgsDepth)) {
      throw new InvalidEnvelopeError(
        type,
        `args are nested deeper than ${this.limits.maxArgsDepth} levels (REALTIME_MAX_ARGS_DEPTH), or refer to themselves`,
      );
    }

    const argsJson = this.serializeArgs(type, args);
    // The envelope is serialized by hand around the args JSON so the (possibly large) args are stringified once.
    const json =
      '{"v":1,"id":"' +
      envelope.id +
      '","type":' +
      JSON.stringify(type) +
      ',"target":' +
      JSON.stringify(target) +
      ',"method":' +
      JSON.stringify(envelope.method) +
      ',"args":' +
      argsJson +
      ',"ts":' +
      ts +
      ',"volatile":' +
      envelope.volatile +
      (seq === undefined ? '' : ',"seq":' + seq) +
      '}';
    const coalesceKey = options.coalesce ? call(type, 'coalesce.key', () => options.coalesce!.key(event)) : undefined;
    const supersedesKey = options.supersedes ? call(type, 'supersedes', () => options.supersedes!(event)) : undefined;
    return {
      envelope,
      json,
      targetKey: targetKeyOf(target),
      argsJson,
      coalesceKey,
      coalesceWindowMs: options.coalesce?.windowMs,
      coalesceRefreshMs: options.coalesce?.refreshMs,
      supersedesKey,
    };
  }

  private serializeArgs(type: string, args: readonly unknown[]): string {
    let json: string;
    try {
      json = JSON.stringify(args);
    } catch (error) {
      throw new InvalidEnvelopeError(type, `args do not serialize to JSON (${errorMessage(error)})`);
    }
    const { maxArgsBytes } = this.limits;
    if (json.length * MAX_UTF8_BYTES_PER_UNIT > maxArgsBytes) {
      const bytes = Buffer.byteLength(json, 'utf8');
      if (bytes > maxArgsBytes) throw new EnvelopeTooLargeError(type, bytes, maxArgsBytes);
    }
    return json;
  }
}

/** Runs a user mapping function; what it throws becomes an InvalidEnvelopeError naming the event and the option. */
function call<T>(type: string, option: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new InvalidEnvelopeError(type, `${option}() threw: ${errorMessage(error)}`);
  }
}
