import { Inject, Injectable, Logger } from '@nestjs/common';
import { RESOLVED_REALTIME_OPTIONS } from '../realtime-transport.constants';
import type { RealtimeRoutingFlags, ResolvedRealtimeTransportOptions } from '../realtime-transport-options.interface';
import { checkRoutingFlags } from './resolve-options';

export type SettingsListener = (
  flags: Readonly<RealtimeRoutingFlags>,
  previous: Readonly<RealtimeRoutingFlags>,
) => void;

/**
 * The routing flags in force. Everything that routes reads them here, so a change (SIGHUP reload, or `update` from
 * code) takes effect for every envelope routed afterwards, without a restart.
 */
@Injectable()
export class RealtimeSettings {
  private readonly logger = new Logger('RealtimeSettings');
  private current: Readonly<RealtimeRoutingFlags>;
  private readonly listeners: SettingsListener[] = [];

  constructor(@Inject(RESOLVED_REALTIME_OPTIONS) options: ResolvedRealtimeTransportOptions) {
    this.current = Object.freeze({ ...options.flags });
  }

  get flags(): Readonly<RealtimeRoutingFlags> {
    return this.current;
  }

  /** Applies new flag values (checked first: a bad value throws and changes nothing). */
  update(changes: Partial<RealtimeRoutingFlags>): void {
    const next = Object.freeze(checkRoutingFlags({ ...this.current, ...changes }));
    const previous = this.current;
    if (sameFlags(previous, next)) return;
    this.current = next;
    this.logger.log(`Routing flags now ${JSON.stringify(next)}`);
    for (const listener of this.listeners) listener(next, previous);
  }

  onChange(listener: SettingsListener): void {
    this.listeners.push(listener);
  }
}

function sameFlags(a: RealtimeRoutingFlags, b: RealtimeRoutingFlags): boolean {
  return (
    a.useRedisStreams === b.useRedisStreams &&
    a.redisStreamsPercentage === b.redisStreamsPercentage &&
    a.fallbackToHttp === b.fallbackToHttp &&
    a.dualWrite === b.dualWrite
  );
}
