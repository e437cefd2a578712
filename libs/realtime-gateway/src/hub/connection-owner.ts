import type { HubConnection } from './hub-connection';
import type { PositionVector } from './session/stream-positions';

/** The bound a connection passed: its unread output, or its stateful session's unacknowledged messages. */
export type ConnectionOverflow = 'slow_client' | 'replay_buffer';

/**
 * What one connection may make the gateway hold, checked by the connection itself at every frame it queues, of
 * every kind (deliveries, completions, pings, acks, replays, held batches) and on every transport: one place, so no
 * kind of output can skip it.
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
}

/** How a connection is closed. */
export interface CloseOptions {
  /** The close message lets the client reconnect (default true). */
  reconnect?: boolean;
  /**
   * The socket is cut right after the close message, and what a batch held is dropped: a client that does not read
   * would never complete the close handshake, and its buffers must go now.
   */
  cut?: boolean;
}

/**
 * What a connection asks of its owner (HubConnections), which performs every change of its state: closing it,
 * deciding what passing a bound does (close, count, log), and where the stream consumer stands for its session.
 */
export interface ConnectionOwner {
  readonly bounds: ConnectionBounds;
  /** Ends a connection that passed a bound; called once per connection. */
  overflowed(connection: HubConnection, bound: ConnectionOverflow, bytes: number): void;
  /** A volatile message was skipped for a connection over the soft bound. */
  skippedVolatile(connection: HubConnection): void;
  /** Closes the connection, with a close message when `reason` is given or the client finished its handshake. */
  close(connection: HubConnection, reason: string | undefined, options: CloseOptions): void;
  /** Drops the connection without a goodbye (its socket is gone or hopeless). */
  terminate(connection: HubConnection): void;
  /** Where the consumer stands now, for a stateful session's record (undefined without a consumer on every shard). */
  position(): PositionVector | undefined;
}
