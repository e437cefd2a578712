import { type Env, isProductionEnv, optionsFromEnv, parseOptions, type SettingSources } from '@realtime-streams/common';
import type { RealtimeGatewayOptions } from '../realtime-gateway-options.interface';
import { realtimeGatewaySchema } from './gateway-options.schema';
import { resolveGatewayOptions } from './resolve-gateway-options';

/**
 * Gateway options from the environment (the variables of the README's configuration table, from the schema); bad
 * values throw `InvalidRealtimeConfigError` naming the variable. Hooks (group methods, authorization, a verifier)
 * cannot come from the environment: merge them into the result in code. Without any JWT variable the result has no
 * verifier and is only checked once code adds one.
 */
export function parseGatewayEnv(env: Env): RealtimeGatewayOptions {
  const sources: SettingSources = new Map();
  const options = optionsFromEnv(realtimeGatewaySchema, env, sources) as RealtimeGatewayOptions;
  parseOptions(realtimeGatewaySchema, options, sources);
  // Checked here too so a bad JWT setting names its variable; the module warns about a short secret (once).
  if (options.auth?.jwt) resolveGatewayOptions(options, sources, { production: isProductionEnv(env) });
  return options;
}
