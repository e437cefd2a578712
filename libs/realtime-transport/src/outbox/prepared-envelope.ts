import type { Envelope, OutboundEnvelope } from '@realtime-streams/contracts';
import type { OutboxRecord, StoredOutboxRecord } from './outbox-store.interface';

/** Where a prepared event points to its envelope: a symbol property, invisible to JSON and to `Object.keys`. */
const PREPARED = Symbol('realtime.prepared');
/** The same link for events that cannot take a property (frozen, sealed). */
const linksOfSealedEvents = new WeakMap<object, PreparedEnvelope>();

type PreparedState = 'unpublished' | 'published' | 'discarded';

/**
 * An event mapped, validated and serialized, with its id fixed, not published yet: what `RealtimePublisher.prepare`
 * returns. Store `record` in the transaction of the domain change; after the commit, pass this object to
 * `RealtimePublisher.publishPrepared` (or publish the event on the EventBus). Only the publisher makes these, and
 * each is published at most once.
 */
export class PreparedEnvelope {
  /** The row to insert into the outbox table, in the same transaction as the domain change. */
  readonly record: OutboxRecord;
  #state: PreparedState = 'unpublished';
  readonly #owner: object;

  /** @internal Use `RealtimePublisher.prepare`. */
  constructor(
    /** @internal */
    readonly outbound: OutboundEnvelope,
    owner: object,
  ) {
    const { envelope, json, targetKey } = outbound;
    this.record = Object.freeze({ id: envelope.id, type: envelope.type, targetKey, json });
    this.#owner = owner;
  }

  /** The envelope id (also `record.id`). */
  get id(): string {
    return this.outbound.envelope.id;
  }

  get envelope(): Envelope {
    return this.outbound.envelope;
  }

  /** @internal Made by the constructor, not forged from the prototype. */
  static isGenuine(value: unknown): value is PreparedEnvelope {
    return typeof value === 'object' && value !== null && #state in value;
  }

  /** @internal Prepared by this owner, and not discarded: preparing its event again returns it. */
  static reusableBy(prepared: PreparedEnvelope, owner: object): boolean {
    return prepared.#owner === owner && prepared.#state !== 'discarded';
  }

  /** @internal True once, for the owner, if it was neither published nor discarded; marks it published. */
  static claim(prepared: PreparedEnvelope, owner: object): boolean {
    if (prepared.#owner !== owner || prepared.#state !== 'unpublished') return false;
    prepared.#state = 'published';
    return true;
  }

  /** @internal Its transaction failed: it must never go out. */
  static discard(prepared: PreparedEnvelope): void {
    if (prepared.#state === 'unpublished') prepared.#state = 'discarded';
  }
}

/**
 * Links an event object to its prepared envelope, so the EventBus path publishes that envelope (same id as the
 * stored record) instead of mapping a second one. A property rather than a WeakMap: a WeakMap entry per event cost
 * about a third of the publish throughput in garbage collection (ephemeron tables).
 */
export function linkPrepared(event: object, prepared: PreparedEnvelope | undefined): void {
  if (Object.isExtensible(event)) {
    Object.defineProperty(event, PREPARED, { value: prepared, configurable: true, writable: true, enumerable: false });
  } else if (prepared) {
    linksOfSealedEvents.set(event, prepared);
  } else {
    linksOfSealedEvents.delete(event);
  }
}

/** The prepared envelope linked to this event, if any. */
export function preparedOf(event: object): PreparedEnvelope | undefined {
  const linked = (event as { [PREPARED]?: PreparedEnvelope })[PREPARED];
  if (linked !== undefined || Object.isExtensible(event)) return linked;
  return linksOfSealedEvents.get(event);
}

/** The outbound envelope of a record read back from the store: the JSON is sent as stored, never re-serialized. */
export function outboundOf(record: StoredOutboxRecord | OutboxRecord): OutboundEnvelope {
  const envelope = JSON.parse(record.json) as Envelope;
  return { envelope, json: record.json, targetKey: record.targetKey, argsJson: JSON.stringify(envelope.args) };
}
