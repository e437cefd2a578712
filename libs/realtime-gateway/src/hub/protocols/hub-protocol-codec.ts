import type { HubMessage } from '../hub-protocol';

/** The hub protocols a client may name in its handshake. */
export type HubProtocolName = 'json' | 'messagepack';

export type CompletionOutcome = { result: unknown } | { error: string };

/**
 * One SignalR hub protocol: how the hub's messages are written and a client's frames read. The handshake is JSON
 * whatever the protocol (hub-protocol.ts). Every writer returns a complete frame, ready for any transport.
 */
export interface HubProtocolCodec {
  readonly name: HubProtocolName;
  /** Binary frames (WebSocket binary messages; SSE cannot carry them). */
  readonly binary: boolean;
  /**
   * A broadcast invocation (no invocation id: the client must not answer). `argsJson`, the arguments already as
   * JSON, spares the JSON protocol a serialization; `args` are what MessagePack encodes.
   */
  invocation(method: string, args: readonly unknown[], argsJson?: string): Buffer;
  completion(invocationId: string, outcome: CompletionOutcome): Buffer;
  readonly ping: Buffer;
  close(error: string | undefined, allowReconnect: boolean): Buffer;
  ack(sequenceId: number): Buffer;
  sequence(sequenceId: number): Buffer;
  /**
   * The messages in one frame from the client, past the handshake. Nothing is allocated by a length the frame
   * declares beyond the bytes it holds; a message nested deeper than `maxDepth` levels (the message itself is one)
   * is refused where the protocol can tell before decoding.
   *
   * @throws HubProtocolError naming what is wrong.
   */
  parse(frame: Buffer, maxDepth: number): HubMessage[];
  /** A frame as a session record keeps it (Redis holds strings), and back. */
  toRecord(frame: Buffer | string): string;
  fromRecord(text: string): Buffer | string;
}
