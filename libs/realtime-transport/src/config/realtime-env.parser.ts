import { type Env, optionsFromEnv, type SettingSources } from '@realtime-streams/common';
import type { RealtimeRoutingFlags, RealtimeTransportOptions } from '../realtime-transport-options.interface';
import { realtimeTransportSchema, routingFlagsSchema } from './realtime-options.schema';
import { checkRoutingFlags, resolveRealtimeOptions } from './resolve-options';

/** The routing flags from the environment; what a SIGHUP reload re-reads. */
export function parseRoutingFlags(env: Env): RealtimeRoutingFlags {
  const sources: SettingSources = new Map();
  return checkRoutingFlags(optionsFromEnv(routingFlagsSchema, env, sources) as RealtimeRoutingFlags, sources);
}

/**
 * Module options from the environment (the variables of the README's configuration table, from the schema). Every
 * value is checked here, so a bad one stops start-up with `InvalidRealtimeConfigError` naming the variable. Merge
 * code-only options (an outbox store, a Redis client) into the result.
 */
export function parseRealtimeEnv(env: Env): RealtimeTransportOptions {
  const sources: SettingSources = new Map();
  const options = optionsFromEnv(realtimeTransportSchema, env, sources) as RealtimeTransportOptions;
  resolveRealtimeOptions(options, sources);
  return options;
}
