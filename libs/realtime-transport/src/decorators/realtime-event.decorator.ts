import { SetMetadata } from '@nestjs/common';
import type { RealtimeTarget } from '@realtime-streams/contracts';
import { REALTIME_EVENT_METADATA } from '../realtime-transport.constants';

export interface CoalesceOptions<E> {
  /** Events with the same key replace each other within a window (e.g. room + user for typing indicators). */
  key: (event: E) => string;
  /** Window length in milliseconds. @default REALTIME_COALESCE_WINDOW_MS (100) */
  windowMs?: number;
  /**
   * Within this long of the last send, an unchanged state is not sent again; after it, the next event sends it
   * again (receivers hide "typing" after a few seconds of silence). 0: only changes go out.
   * @default REALTIME_COALESCE_REFRESH_MS (1000)
   */
  refreshMs?: number;
}

export interface RealtimeEventOptions<E = object> {
  /** SignalR client method the clients receive the event as, e.g. `ReceiveMessage`. */
  method: string;
  /** Who receives the event: `toGroup(name)`, `toUser(id)` or `toAll()`. */
  to: (event: E) => RealtimeTarget;
  /** Event type in the envelope. @default the class name */
  type?: string;
  /** Arguments of the client method. @default [event] (its own enumerable properties, as JSON) */
  args?: (event: E) => unknown[];
  /**
   * May be dropped under backpressure and is never replayed.
   * @default false, true for coalesced events
   */
  volatile?: boolean;
  /** Coalesce bursts of this event (typing indicators): only the latest state per key and window goes out. */
  coalesce?: CoalesceOptions<E>;
  /**
   * When this event is published, pending coalesced events with the key this function returns are discarded
   * (a chat message supersedes its author's pending "typing" state, so a stale "typing" never follows it).
   */
  supersedes?: (event: E) => string;
  /**
   * The event's place in its target's commit order: consecutive per target (1, 2, 3, ...), taken in the same
   * transaction that stores the event's data (a per-room counter, for example). With several api instances the
   * order they publish in is not the order the database committed in; a gateway delivers a target's numbered events
   * in this order and, when one is missing for longer than its hold, closes the target's connections with the
   * reconnectable "missed messages" close so clients re-fetch. Without it, events go out in publication order.
   */
  sequence?: (event: E) => number;
}

/**
 * Marks a domain event class for real-time delivery. Events published on the `EventBus` without it reach no client;
 * the module warns once per such class (`warnUndecoratedEvents: false` silences it).
 *
 * @example
 * ```ts
 * @RealtimeEvent({ method: 'ReceiveMessage', type: 'chat.message.created', to: (e: MessageCreated) => toGroup(`room:${e.roomId}`) })
 * export class MessageCreated { constructor(readonly roomId: string, readonly text: string) {} }
 * ```
 */
export function RealtimeEvent<E extends object = object>(options: RealtimeEventOptions<E>): ClassDecorator {
  return SetMetadata(REALTIME_EVENT_METADATA, options);
}
