import { Pool } from 'undici';
import { serviceToken } from '../../test/support/chat-api';
import { messageText } from '../e2e/protocol';
import type { ScheduledMessage } from '../scale/open-loop';
import { LatencyRecorder } from '../support/latency-recorder';
import type { AcceptedMessage } from './delivery-check';

/**
 * Posts the scheduled messages to an api (`POST /rooms/<room>/messages`, each as its sender) and keeps, per room,
 * what it accepted (id and number, from the 201's body) and, for measured messages, the time to the 201.
 */
export class MessagePoster {
  private readonly pool: Pool;
  private readonly tokens = new Map<string, string>();
  readonly accepted = new Map<string, AcceptedMessage[]>();
  readonly responseMs = new LatencyRecorder();
  acceptedMeasured = 0;
  refused = 0;
  /** Why posts failed: status codes and errors, with their counts. */
  readonly refusals = new Map<string, number>();

  constructor(apiUrl: string) {
    // Enough connections that a slow answer (the legacy API awaits its realtime server) queues in the api, where
    // POST->201 sees it, and not behind the bench's own pool: many users post, each on a connection of their own.
    this.pool = new Pool(apiUrl, { connections: 256, pipelining: 1 });
  }

  /** Never rejects: a failure is a count. */
  async post(message: ScheduledMessage): Promise<void> {
    const sentAt = performance.now();
    try {
      const response = await this.pool.request({
        path: `/rooms/${message.room}/messages`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.tokenOf(message.sender)}` },
        body: JSON.stringify({ text: messageText(message.sender, message.seq, message.measured) }),
      });
      if (response.statusCode !== 201) {
        const body = await response.body.text();
        this.refuse(`${response.statusCode} ${body.slice(0, 120)}`);
        return;
      }
      const stored = (await response.body.json()) as AcceptedMessage;
      if (message.measured) {
        this.responseMs.record(performance.now() - sentAt);
        this.acceptedMeasured++;
      }
      const room = this.accepted.get(message.room) ?? this.accepted.set(message.room, []).get(message.room)!;
      room.push({ id: stored.id, seq: stored.seq });
    } catch (error) {
      this.refuse(error instanceof Error ? error.message : String(error));
    }
  }

  private refuse(reason: string): void {
    this.refused++;
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private tokenOf(user: string): string {
    return this.tokens.get(user) ?? this.tokens.set(user, serviceToken(user)).get(user)!;
  }
}
