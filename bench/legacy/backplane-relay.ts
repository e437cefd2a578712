import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InProcessSinkRegistry } from '@realtime-streams/common';
import { type Envelope, targetKeyOf } from '@realtime-streams/contracts';
import Redis from 'ioredis';

/**
 * How the backplane's channels are laid out:
 *   - `one`: every event on one channel every server subscribes to, so every server reads every event (the classic
 *     ASP.NET SignalR Redis scale-out: one message bus, each server filtering for its own connections);
 *   - `group`: a channel per group, a server subscribing to a group's channel when its first connection joins it
 *     (ASP.NET Core SignalR's RedisHubLifetimeManager), so a server reads only what it has members for.
 */
export type BackplaneChannels = 'one' | 'group';

const CHANNEL_ALL = 'backplane:all';
const groupChannel = (group: string) => `backplane:group:${group}`;

/**
 * The relay of one legacy realtime server: the POST the legacy API sent it (a JSON array of envelopes, the bridge's
 * body) is published to Redis, one PUBLISH per event as SignalR's backplane sends one per invocation, and answered
 * once Redis took every PUBLISH. What arrives on this server's subscriptions (its own publications included: SignalR
 * delivers locally through the subscription too) goes to the local gateway through its in-process sink.
 */
export class BackplaneRelay {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly secretDigest: Buffer;
  /** Group channels subscribed to (or being), so a join waits for its subscription as SignalR's AddToGroup does. */
  private readonly subscriptions = new Map<string, Promise<unknown>>();
  published = 0;
  received = 0;

  constructor(
    redisUrl: string,
    readonly channels: BackplaneChannels,
    secret: string,
    private readonly sinks: InProcessSinkRegistry,
  ) {
    this.publisher = new Redis(redisUrl, { lazyConnect: true });
    // A subscribed connection can do nothing else: the other one publishes.
    this.subscriber = new Redis(redisUrl, { lazyConnect: true });
    this.secretDigest = digest(secret);
  }

  async start(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    this.subscriber.on('message', (_channel: string, json: string) => this.deliver(json));
    if (this.channels === 'one') await this.subscriber.subscribe(CHANNEL_ALL);
  }

  /** A local connection joins `group`: with a channel per group, subscribe to it first (once). */
  subscribeTo(group: string): Promise<unknown> {
    if (this.channels === 'one') return Promise.resolve();
    let subscribing = this.subscriptions.get(group);
    if (!subscribing) {
      subscribing = this.subscriber.subscribe(groupChannel(group));
      this.subscriptions.set(group, subscribing);
    }
    return subscribing;
  }

  readonly handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST') return void response.writeHead(405).end();
    const header = request.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7) : '';
    if (!timingSafeEqual(digest(given), this.secretDigest)) return void response.writeHead(401).end();
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const envelopes = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope[];
    await Promise.all(envelopes.map((envelope) => this.publish(envelope)));
    response.writeHead(200, { 'content-type': 'application/json' }).end(`{"accepted":${envelopes.length}}`);
  };

  async close(): Promise<void> {
    this.subscriber.disconnect();
    await this.publisher.quit().catch(() => undefined);
  }

  private publish(envelope: Envelope): Promise<number> {
    this.published++;
    const { target } = envelope;
    const channel = this.channels === 'group' && target.kind === 'group' ? groupChannel(target.name) : CHANNEL_ALL;
    return this.publisher.publish(channel, JSON.stringify(envelope));
  }

  /** An event from the backplane, to this server's own clients (the gateway finds them, or nobody). */
  private deliver(json: string): void {
    this.received++;
    const envelope = JSON.parse(json) as Envelope;
    const outbound = {
      envelope,
      json,
      targetKey: targetKeyOf(envelope.target),
      argsJson: JSON.stringify(envelope.args),
    };
    void this.sinks.sink?.([outbound]);
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
