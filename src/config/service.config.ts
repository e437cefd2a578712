import { registerAs } from '@nestjs/config';
import { type Env, InvalidRealtimeConfigError, readBoolean, readNumber, readString } from '@realtime/transport';

export type ServiceRole = 'all' | 'api' | 'gateway';

/** Used when JWT_SECRET is not set: fine on a laptop, refused nowhere, warned about at start-up. */
export const DEV_JWT_SECRET = 'dev-only-jwt-secret-change-me';
/** Used when REALTIME_BRIDGE_SECRET is not set (publisher and gateway of one machine must agree). */
export const DEV_BRIDGE_SECRET = 'dev-only-bridge-secret-change-me';

export interface ServiceConfig {
  role: ServiceRole;
  port: number;
  jwtSecret: string;
  /** JWT_SECRET was not set: development tokens may be handed out by the demo page. */
  devSecrets: boolean;
  bridgeSecret: string;
  databasePath: string;
  /** Path of the chat hub. @default '/hubs/chat' */
  hubPath: string;
  /** Hub URL the demo page connects to. @default same origin, the hub path */
  publicHubUrl?: string;
}

/** The reference service's own settings (the realtime libraries read theirs through their config namespaces). */
export function parseServiceEnv(env: Env): ServiceConfig {
  const role = (readString(env, 'REALTIME_ROLE') ?? 'all') as ServiceRole;
  if (!['all', 'api', 'gateway'].includes(role)) {
    throw new InvalidRealtimeConfigError('REALTIME_ROLE', role, 'all, api or gateway');
  }
  const jwtSecret = readString(env, 'JWT_SECRET');
  return {
    role,
    port: readNumber(env, 'PORT', 3000, 0, 65_535),
    jwtSecret: jwtSecret ?? DEV_JWT_SECRET,
    devSecrets: readBoolean(env, 'DEV_TOKENS', jwtSecret === undefined),
    bridgeSecret: readString(env, 'REALTIME_BRIDGE_SECRET') ?? DEV_BRIDGE_SECRET,
    databasePath: readString(env, 'DATABASE_PATH') ?? 'data/chat.sqlite',
    hubPath: readString(env, 'REALTIME_HUB_PATH') ?? '/hubs/chat',
    publicHubUrl: readString(env, 'REALTIME_PUBLIC_HUB_URL'),
  };
}

export const serviceConfig = registerAs('service', (): ServiceConfig => parseServiceEnv(process.env));
