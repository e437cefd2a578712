import type { HubConnection } from './hub-connection';

/** The bound a connection passed: its unread output, or its stateful session's unacknowledged messages. */
export type ConnectionOverflow = 'slow_client' | 'replay_buffer';

/**
 * What one connection may make the gateway hold, checked by the connection itself at every frame it queues, of
 * every kind (deliveries, completions, pings, acks, replays, held batches) and on every transport: one place, so no
 * kind of output can skip it. Whoever owns the connections decides what passing a bound does (close, count, log).
 */
export interface ConnectionBounds {
  /** Above this much unread output, volatile messages are skipped. */
  readonly softLimitBytes: number;
  /**
   * With more than this already waiting (on the socket, in a long-poll buffer, held for a batch) the connection is
   * cut. The frame at hand does not count: a connection holds at most this plus one frame.
   */
  readonly hardLimitBytes: number;
  /** A stateful session's sent and unacknowledged bytes (and what waits while its resume is prepared). */
  readonly replayBufferBytes: number;
  /** Ends a connection that passed a bound; called once per connection. */
  overflowed(connection: HubConnection, bound: ConnectionOverflow, bytes: number): void;
}
