import { signHs256Jwt } from '@realtime-streams/gateway';
import { SERVICE_JWT_SECRET } from './service-process';

/** A token the reference service accepts (signed with the test JWT_SECRET). */
export function serviceToken(user: string, secret = SERVICE_JWT_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256Jwt({ sub: user, iat: now, exp: now + 3600 }, secret);
}

export interface StoredMessage {
  id: string;
  roomId: string;
  userId: string;
  text: string;
  createdAt: string;
  acceptedAt: number;
  /** The message's number in its room, from 1. */
  seq: number;
}

/** The chat REST API of one service, as one user. */
export class ChatApi {
  private readonly token: string;

  constructor(
    private readonly baseUrl: string,
    user: string,
    /** Signs the user's token; or a token as is (e.g. one from `npm run token`). */
    auth: { secret?: string; token?: string } = {},
  ) {
    this.token = auth.token ?? serviceToken(user, auth.secret);
  }

  async post(room: string, text: string): Promise<StoredMessage> {
    const response = await this.request('POST', `/rooms/${room}/messages`, { text });
    if (response.status !== 201) throw new Error(`POST message answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as StoredMessage;
  }

  async typing(room: string, isTyping: boolean): Promise<number> {
    return (await this.request('POST', `/rooms/${room}/typing`, { isTyping })).status;
  }

  async list(room: string, after?: string, limit?: number): Promise<StoredMessage[]> {
    const query = new URLSearchParams();
    if (after) query.set('after', after);
    if (limit) query.set('limit', String(limit));
    const response = await this.request('GET', `/rooms/${room}/messages?${query.toString()}`);
    if (response.status !== 200) throw new Error(`GET messages answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as StoredMessage[];
  }

  /** `POST /rooms`: the caller becomes a member, with `members`. */
  createRoom(id: string, members?: string[]): Promise<Response> {
    return this.request('POST', '/rooms', members === undefined ? { id } : { id, members });
  }

  addMember(room: string, userId: string): Promise<Response> {
    return this.request('POST', `/rooms/${room}/members`, { userId });
  }

  request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}
