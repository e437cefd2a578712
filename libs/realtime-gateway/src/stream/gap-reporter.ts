import { Logger } from '@nestjs/common';
import { errorMessage } from '@realtime-streams/common';
import type { StreamMetrics } from './stream.metrics';
import type { GroupSetup } from './group-setup';

/**
 * Told when this instance missed stream entries: their targets are unknown, so every connection it holds is closed
 * with a reconnectable close message carrying `reason`, and clients re-fetch. Returns how many were closed.
 */
export type MissedEntriesListener = (reason: string) => number;

/** What clients are told when the gateway missed entries. */
export const MISSED_ENTRIES_REASON = 'Some messages could not be delivered; reconnect and fetch what you missed.';

/** Counts, logs and tells clients what the stream consumer missed. */
export class GapReporter {
  private readonly logger = new Logger('RealtimeStreamConsumer');

  constructor(
    private readonly group: string,
    private readonly metrics: StreamMetrics,
    private readonly onMissed: MissedEntriesListener,
  ) {}

  /** Entries `from`..`to` of `key` were never read by this instance: counted exactly, and clients told. */
  missed(key: string, from: number, to: number, why = 'trimmed before this gateway read them, or lost'): void {
    const missed = to - from + 1;
    this.metrics.entriesMissed(key, missed);
    const closed = this.tellClients();
    this.logger.error(
      `Missed ${missed} entries of ${key} (n ${from}..${to}): ${why}; closed ${closed} connections so clients re-fetch`,
    );
  }

  /**
   * A new entry numbered at or below the last one read: the counter started again, Redis lost the stream (or its
   * counter). The new numbering's first entries this instance did not read can be counted; what it had not read of
   * the old stream cannot.
   */
  renumbered(key: string, n: number, previous: number): void {
    this.metrics.streamsLost(1);
    this.logger.error(`Stream ${key} is numbered again from 1 (was at ${previous}): Redis lost it or its counter?`);
    if (n > 1) this.missed(key, 1, n - 1, 'the stream was numbered again from 1');
    else this.tellClients();
  }

  /**
   * The shard lost its last entries (n `n`..`previous` of the master that died) and numbers on from `n`: this
   * instance had read them, and the publisher replays what that master acknowledged lately over its next transport,
   * so nobody is disconnected; counted with the lost streams.
   */
  tailLost(key: string, n: number, previous: number): void {
    this.metrics.streamsLost(1);
    this.logger.warn(
      `Stream ${key} lost entries ${n}..${previous} after this gateway read them (a failover to a replica that ` +
        'had not got them?); numbering goes on from there, the publisher replays what was lost',
    );
  }

  /**
   * Redis lost the streams (restarted empty). `behind`: this instance had entries waiting when it lost them, gone in
   * unknown number, so clients are told. Caught up: what Redis appended after its last read is what the publisher
   * replays over its next transport (same ids), so nobody is disconnected.
   */
  lostStreams(keys: readonly string[], behind: boolean): void {
    this.metrics.streamsLost(keys.length);
    const what = `Stream ${keys.join(', ')} was lost (Redis restarted empty?): consumer group ${this.group} recreated`;
    if (!behind) {
      this.logger.warn(`${what}; this gateway had read everything before, the publisher replays what Redis lost`);
      return;
    }
    const closed = this.tellClients();
    this.logger.error(
      `${what}; entries this gateway had not read are gone (how many is unknown); closed ${closed} connections so ` +
        'clients re-fetch',
    );
  }

  groupSetUp(key: string, setup: GroupSetup): void {
    const group = `Consumer group ${this.group} of ${key}`;
    if (setup === 'resumed') this.logger.warn(`${group} was gone; recreated where it stood, nothing missed`);
    else if (setup === 'trimmed')
      this.logger.warn(`${group} was gone; recreated at the stream's start (the next read counts the gap)`);
    else if (setup === 'unplaced') {
      this.logger.warn(`${group}: its last entry is gone; entries trimmed before its first read are not counted`);
    }
  }

  private tellClients(): number {
    try {
      const closed = this.onMissed(MISSED_ENTRIES_REASON);
      this.metrics.gapDisconnected(closed);
      return closed;
    } catch (error) {
      this.logger.error(`Closing connections after a gap failed: ${errorMessage(error)}`);
      return 0;
    }
  }
}
