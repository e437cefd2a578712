import { Logger } from '@nestjs/common';
import {
  announceLayout,
  describeLayout,
  errorMessage,
  LAYOUT_ANNOUNCE_INTERVAL_MS,
  type RedisConnection,
  STREAM_LAYOUTS_KEY,
  type StreamLayout,
} from '@realtime-streams/common';

/**
 * Announces the layout this publisher writes (prefix, shards, key layout) in Redis every few seconds, so a gateway
 * reading another layout on the same Redis says so instead of delivering nothing without a word. One HSET and
 * PEXPIRE per interval on the publishing connection, nothing per event. A failure is not the publisher's problem:
 * the next interval tries again; a Redis whose ACL refuses the key is said once, then left alone.
 */
export class StreamLayoutAnnouncer {
  private readonly logger = new Logger('RedisStreamsTransport');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastError?: string;

  constructor(
    private readonly redis: RedisConnection,
    private readonly layout: StreamLayout,
    private readonly intervalMs = LAYOUT_ANNOUNCE_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.timer) return;
    this.announce();
    this.timer = setInterval(() => this.announce(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private announce(): void {
    // While Redis is away the fail-fast connection would only refuse; the transport logs the outage itself.
    if (this.running || this.redis.status !== 'ready') return;
    this.running = announceLayout(this.redis, 'publisher', this.layout)
      .then(() => (this.lastError = undefined))
      .catch((error: unknown) => this.failed(error))
      .finally(() => (this.running = undefined));
  }

  private failed(error: unknown): void {
    const message = errorMessage(error);
    if (message === this.lastError) return;
    this.lastError = message;
    if (message.startsWith('NOPERM')) {
      this.logger.warn(
        `Cannot announce this publisher's stream layout (${describeLayout(this.layout)}) in ${STREAM_LAYOUTS_KEY}: ` +
          `${message}. Gateways cannot warn about a layout that differs from theirs; allow the key in the ACL.`,
      );
    } else {
      this.logger.debug(`Stream layout announcement failed: ${message}`);
    }
  }
}
