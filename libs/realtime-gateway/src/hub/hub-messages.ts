import { Logger } from '@nestjs/common';
import { errorMessage } from '@realtime-streams/common';
import { exceedsJsonDepth } from '@realtime-streams/contracts';
import { HubMethodError } from '../errors/hub-method.error';
import type { HubMetrics } from './hub.metrics';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import type { HubConnection } from './hub-connection';
import type { HubConnections } from './hub-connections';
import type { HubInvoker } from './hub-invoker';
import {
  HANDSHAKE_OK,
  handshakeError,
  type HubMessage,
  HubProtocolError,
  MessageType,
  parseRecords,
  RECORD_SEPARATOR,
} from './hub-protocol';
import { hubProtocolNamed } from './protocols/hub-protocols';

/**
 * What a connection's client sends, on any transport: the handshake (which picks the hub protocol), then its
 * messages (invocations, acks, sequence, close), each answered or refused. A client that breaks the protocol is
 * closed with the reason; nothing a client sends can throw out of here.
 */
export class HubMessages {
  private readonly logger = new Logger('RealtimeHub');

  /** Nesting a client's message may have: the message, then its arguments array (level 1 of the args bound). */
  private readonly maxMessageDepth: number;

  private readonly maxMessageBytes: number;
  private readonly limits: ResolvedGatewayOptions['limits'];
  private readonly maxArgsDepth: number;

  constructor(
    options: Pick<ResolvedGatewayOptions, 'hub' | 'limits' | 'envelopes'>,
    private readonly connections: HubConnections,
    private readonly invoker: HubInvoker,
    private readonly metrics: HubMetrics,
  ) {
    this.maxMessageBytes = options.hub.maxMessageBytes;
    this.limits = options.limits;
    this.maxArgsDepth = options.envelopes.maxArgsDepth;
    this.maxMessageDepth = this.maxArgsDepth + 1;
  }

  /** A frame from the client, on any transport. */
  receive(connection: HubConnection, bytes: Buffer, isBinary: boolean): void {
    // A socket being closed may still bring frames the client sent before it knew: nothing of them is served.
    if (connection.ended) return;
    connection.lastReceivedAt = Date.now();
    try {
      if (bytes.length > this.maxMessageBytes) {
        throw new HubProtocolError(
          'too_large',
          `Message of ${bytes.length} bytes is over the limit of ${this.maxMessageBytes}`,
        );
      }
      let messages = bytes;
      if (!connection.handshakeDone) {
        // The handshake is JSON text whatever the protocol; what follows its separator is in that protocol.
        const end = bytes.indexOf(RECORD_SEPARATOR_BYTE);
        const [record] = parseRecords(bytes.subarray(0, end + 1).toString('utf8'));
        if (!this.handshake(connection, record)) return;
        messages = bytes.subarray(end + 1);
        if (messages.length === 0) return;
      } else if (isBinary && !connection.codec.binary) {
        throw new HubProtocolError('binary', 'Binary messages are not supported by the JSON protocol');
      }
      for (const message of connection.codec.parse(messages, this.maxMessageDepth)) {
        // A message may close the connection (a close message, a limit): the rest of the frame is not served.
        if (!connection.isOpen) return;
        this.onHubMessage(connection, message);
      }
    } catch (error) {
      this.protocolError(connection, error);
    }
  }

  private handshake(connection: HubConnection, record: unknown): boolean {
    const { protocol, version } = (record ?? {}) as { protocol?: unknown; version?: unknown };
    const codec = typeof protocol === 'string' ? hubProtocolNamed(protocol) : undefined;
    const transport = connection.transport;
    let problem: string | undefined;
    if (typeof protocol !== 'string' || typeof version !== 'number') problem = 'Invalid handshake request.';
    else if (!codec) problem = `The protocol '${protocol}' is not supported.`;
    else if (version !== 1 && version !== 2)
      problem = `The server does not support version ${version} of the '${protocol}' protocol.`;
    else if (codec.binary && transport === 'ServerSentEvents')
      problem = `The '${protocol}' protocol needs a transport that carries binary data; ServerSentEvents does not.`;
    if (problem || !codec) {
      this.metrics.protocolError('handshake');
      connection.send(handshakeError(problem!), Date.now());
      connection.close();
      return false;
    }
    // `{}` must be the very first thing the client receives: nothing is sent to a socket before this.
    connection.codec = codec;
    connection.send(codec.binary ? HANDSHAKE_OK_BYTES : HANDSHAKE_OK, Date.now());
    this.connections.handshaken(connection, codec, version as number);
    return true;
  }

  private onHubMessage(connection: HubConnection, message: HubMessage): void {
    const session = connection.session;
    // Counted: a message resent after a reconnect that was processed already is dropped (never run twice).
    const counted = message.type >= MessageType.Invocation && message.type <= MessageType.CancelInvocation;
    if (session && counted && !session.countInbound()) return;
    switch (message.type) {
      case MessageType.Invocation:
        return this.onInvocation(connection, message);
      case MessageType.StreamInvocation:
        return this.complete(connection, message.invocationId, { error: 'Streaming hub methods are not supported.' });
      case MessageType.Ack:
        if (session) session.ack(sequenceIdOf(message));
        return;
      case MessageType.Sequence:
        if (session && !session.resequence(sequenceIdOf(message)))
          throw new HubProtocolError('bad_message', 'Sequence ID greater than amount of messages we have received.');
        return;
      case MessageType.Ping:
      case MessageType.CancelInvocation:
      case MessageType.StreamItem:
      case MessageType.Completion:
        return;
      case MessageType.Close:
        connection.close();
        return;
      default:
        throw new HubProtocolError('bad_message', `Unknown message type ${message.type}`);
    }
  }

  private onInvocation(connection: HubConnection, message: HubMessage): void {
    const { target, invocationId } = message;
    const args = message.arguments ?? [];
    if (typeof target !== 'string' || !Array.isArray(args)) {
      throw new HubProtocolError('bad_message', 'An invocation needs a string target and an array of arguments');
    }
    if (invocationId !== undefined && (typeof invocationId !== 'string' || invocationId.length > MAX_INVOCATION_ID)) {
      // Every answer echoes the id: a long one would make each call an amplifier of the client's bytes.
      throw new HubProtocolError(
        'bad_message',
        `invocationId must be a string of at most ${MAX_INVOCATION_ID} characters`,
      );
    }
    if (!connection.invocations.take(Date.now())) return this.refuseInvocation(connection, invocationId);
    if (Array.isArray(message.streamIds) && message.streamIds.length > 0) {
      return this.complete(connection, invocationId, { error: 'Client-to-server streaming is not supported.' });
    }
    const refused = this.argumentsRefusal(args);
    if (refused) return this.complete(connection, invocationId, { error: refused });
    // Redis is told before the method runs that the session's record is behind: a resume elsewhere after a crash
    // starts over instead of running it again or numbering its answer wrongly.
    connection.session?.diverge();
    this.invoker.invoke(connection, target, args).then(
      (result) => this.complete(connection, invocationId, { result }),
      (error: unknown) =>
        this.complete(connection, invocationId, {
          error: error instanceof HubMethodError ? error.message : 'An unexpected error occurred on the server.',
        }),
    );
  }

  /**
   * Arguments the hub does not pass to a method: too many (hub methods spread them, and a spread of 65,000 overflows
   * the stack) or nested too deep (anything recursive in a method would overflow on them).
   */
  private argumentsRefusal(args: unknown[]): string | undefined {
    const { maxInvocationArguments } = this.limits;
    if (args.length > maxInvocationArguments) {
      this.metrics.clientLimitHit('arguments');
      return `Too many arguments: at most ${maxInvocationArguments}.`;
    }
    if (exceedsJsonDepth(args, this.maxArgsDepth)) {
      this.metrics.clientLimitHit('arguments_depth');
      return `Arguments nested too deep: at most ${this.maxArgsDepth} levels.`;
    }
    return undefined;
  }

  /** Over the rate: a completion error, or the connection closed when the client keeps calling regardless. */
  private refuseInvocation(connection: HubConnection, invocationId: unknown): void {
    const { invocationsPerSecond, maxRefusedInvocations } = this.limits;
    if (connection.invocations.refusedInARow >= maxRefusedInvocations) {
      this.metrics.clientLimitHit('invocations_close');
      this.logger.warn(`Closing connection ${connection.id} of ${connection.user.id}: kept invoking past its limit`);
      connection.close(`Connection closed: more than ${invocationsPerSecond} invocations per second, sustained.`, {
        reconnect: false,
      });
      return;
    }
    this.metrics.clientLimitHit('invocations');
    this.complete(connection, invocationId, {
      error: `Too many invocations: at most ${invocationsPerSecond} per second. Try again later.`,
    });
  }

  /** Answers an `invoke`; a `send` (no invocation id) gets no answer. */
  private complete(
    connection: HubConnection,
    invocationId: unknown,
    outcome: { result: unknown } | { error: string },
  ): void {
    if (typeof invocationId !== 'string') return;
    let frame: Buffer;
    try {
      frame = connection.codec.completion(invocationId, outcome);
    } catch (error) {
      frame = connection.codec.completion(invocationId, {
        error: `The result could not be serialized: ${errorMessage(error)}`,
      });
    }
    connection.complete(frame, Date.now());
  }

  private protocolError(connection: HubConnection, error: unknown): void {
    const known = error instanceof HubProtocolError;
    if (!known) this.logger.error(`Connection ${connection.id} failed`, error as Error);
    const message = known ? error.message : 'An unexpected error occurred on the server.';
    this.metrics.protocolError(known ? error.reason : 'internal');
    if (!connection.handshakeDone) {
      connection.send(handshakeError(message), Date.now());
      connection.close();
      return;
    }
    connection.close(`Connection closed with an error: ${message}`, { reconnect: false });
  }
}

const RECORD_SEPARATOR_BYTE = RECORD_SEPARATOR.charCodeAt(0);
/** Longest invocation id: the stock clients count from "0", so this is far beyond any of them. */
const MAX_INVOCATION_ID = 128;
/** The handshake answer as bytes, for binary protocols (sent in the connection's transfer format). */
const HANDSHAKE_OK_BYTES = Buffer.from(HANDSHAKE_OK, 'utf8');

function sequenceIdOf(message: HubMessage): number {
  const id = message.sequenceId;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
    throw new HubProtocolError('bad_message', 'sequenceId must be a non-negative integer');
  return id;
}
