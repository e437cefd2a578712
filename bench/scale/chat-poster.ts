import { Pool } from 'undici';
import { serviceToken } from '../../test/support/chat-api';
import { messageText } from '../e2e/protocol';
import type { ScheduledMessage } from './open-loop';

/** Posts the scheduled messages to the api (`POST /rooms/<room>/messages`), each as its sender. */
export class ChatPoster {
  private readonly pool: Pool;
  private readonly tokens = new Map<string, string>();

  constructor(apiUrl: string) {
    this.pool = new Pool(apiUrl, { connections: 32, pipelining: 1 });
  }

  /** Resolves with whether the api stored it (201); never rejects, a failure is a count. */
  async post(message: ScheduledMessage): Promise<boolean> {
    try {
      const response = await this.pool.request({
        path: `/rooms/${message.room}/messages`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.tokenOf(message.sender)}` },
        body: JSON.stringify({ text: messageText(message.sender, message.seq, message.measured) }),
      });
      await response.body.dump();
      return response.statusCode === 201;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private tokenOf(user: string): string {
    return this.tokens.get(user) ?? this.tokens.set(user, serviceToken(user)).get(user)!;
  }
}
