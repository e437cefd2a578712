import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectPostgresDatabase } from '../database/database.module';
import type { PostgresDatabase } from '../database/postgres-database';

/** A health check should answer while the database does not; a round trip on a healthy server takes a few ms. */
const PING_TIMEOUT_MS = 1000;

/** PostgreSQL reachability (`SELECT 1`, bounded by a timeout) when the service runs on it. Reports `down`, never throws. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @InjectPostgresDatabase() private readonly postgres: PostgresDatabase | null,
  ) {}

  /** Only PostgreSQL is checked: an SQLite file that opened at start stays there. */
  get enabled(): boolean {
    return this.postgres !== null;
  }

  async isHealthy<const Key extends string = 'database'>(key: Key = 'database' as Key) {
    const indicator = this.health.check(key);
    if (!this.postgres) return indicator.up({ store: 'sqlite' });
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.postgres.ping(), timeout]);
      return indicator.up({ store: 'postgresql', latencyMs: Math.round((performance.now() - started) * 1000) / 1000 });
    } catch (error) {
      return indicator.down({ store: 'postgresql', message: error instanceof Error ? error.message : String(error) });
    } finally {
      clearTimeout(timer);
    }
  }
}
