import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { parse } from 'dotenv';
import { RESOLVED_REALTIME_OPTIONS } from '../realtime-transport.constants';
import type { RealtimeRoutingFlags, ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
import { RealtimeTransportMetrics } from '../metrics/realtime-transport.metrics';
import { errorMessage } from '@realtime-streams/common';
import { RealtimeSettings } from './realtime-settings';
import { parseRoutingFlags } from './realtime-env.parser';

/**
 * Rollback without a restart: on SIGHUP, re-reads the env file and applies its routing flags. Values in the file
 * win over the process environment, which still holds what the file said at start-up. A file with a bad value is
 * refused as a whole and the flags in force stay.
 */
@Injectable()
export class EnvFileReloader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RealtimeEnvFileReloader');
  private readonly onSignal = () => void this.reload();

  constructor(
    private readonly settings: RealtimeSettings,
    private readonly metrics: RealtimeTransportMetrics,
    @Inject(RESOLVED_REALTIME_OPTIONS) private readonly options: ResolvedRealtimeTransportOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.reloadEnvFile) process.on('SIGHUP', this.onSignal);
  }

  onApplicationShutdown(): void {
    process.off('SIGHUP', this.onSignal);
  }

  /** Re-reads the env file and applies its flags; resolves to the flags in force afterwards. */
  async reload(): Promise<Readonly<RealtimeRoutingFlags>> {
    const file = this.options.reloadEnvFile;
    if (!file) return this.settings.flags;
    try {
      const values = parse(await readFile(file, 'utf8'));
      this.settings.update(parseRoutingFlags({ ...process.env, ...values }));
      this.metrics.reloaded(true);
      this.logger.log(`Reloaded routing flags from ${file}`);
    } catch (error) {
      this.metrics.reloaded(false);
      this.logger.error(`Reload of ${file} refused, flags unchanged: ${errorMessage(error)}`);
    }
    return this.settings.flags;
  }
}
