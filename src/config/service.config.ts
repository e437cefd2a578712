import { registerAs } from '@nestjs/config';
import { type JwtVerificationOptions, parseJwtEnv } from '@realtime-streams/gateway';
import { type Env, readBoolean, readNumber, readString, readUrls } from './env-readers';
import { InvalidRealtimeConfigError } from '@realtime-streams/transport';
import { secretsFileOf, type SecretSource } from './installation-secrets';
import { bridgeSecretOf, healthTokenOf, isProduction, jwtSecretOf } from './service-secrets';
import { UnsafeConfigError } from './unsafe-config.error';

export type ServiceRole = 'all' | 'api' | 'gateway';

export interface ServiceConfig {
  role: ServiceRole;
  port: number;
  /** `NODE_ENV=production`: secrets are required, development tokens refused, rooms members-only by default. */
  production: boolean;
  /**
   * HS256 secret of tokens; undefined when an identity provider signs them (`JWT_PUBLIC_KEY`, `JWT_JWKS_URL`), and
   * then no development token can be made.
   */
  jwtSecret?: string;
  /** How REST and the hub verify tokens (the same settings for both). */
  jwt: JwtVerificationOptions;
  /** The demo page may hand out tokens for any user name (`DEV_TOKENS`). @default on while the JWT secret is generated */
  devTokens: boolean;
  /** This process receives bridge posts (`REALTIME_BRIDGE_RECEIVER`). @default true for roles gateway and all */
  bridgeReceiver: boolean;
  /** This process posts to a bridge: `REALTIME_HTTP_BRIDGE_URL` is set, or role all posts to its own receiver. */
  bridgePublisher: boolean;
  /** Set whenever the bridge is on in this process, and only then. */
  bridgeSecret?: string;
  /** Path of the bridge receiver. @default '/internal/realtime/events' */
  bridgePath: string;
  /**
   * In production, callers sending `Authorization: Bearer <HEALTH_TOKEN>` see `/health` details; everyone else only
   * its status. @default unset (in production, details for nobody)
   */
  healthToken?: string;
  /** Where each secret came from, by variable name (never the values): what the start-up log reports. */
  secretSources: Record<string, SecretSource>;
  /** Where generated development secrets are kept. @default `secrets.json` next to `databasePath` */
  secretsFile: string;
  /** The SQLite file (`DATABASE_PATH`); still where the secrets file goes when `databaseUrl` is set. */
  databasePath: string;
  /**
   * PostgreSQL instead of SQLite (`DATABASE_URL`, `postgres://` or `postgresql://`): messages, rooms and the outbox
   * in one database several api instances share. @default unset (SQLite)
   */
  databaseUrl?: string;
  /**
   * Durable accept (`REALTIME_OUTBOX`): a message and its envelope are stored in one transaction, so an accepted
   * message reaches its room even if this process dies before a transport took it. @default true
   */
  outbox: boolean;
  /** Every user may read, post to and join every room (`ROOMS_OPEN`). @default true, false in production */
  roomsOpen: boolean;
  /** Path of the chat hub. @default '/hubs/chat' */
  hubPath: string;
  /** Hub URL the demo page connects to. @default same origin, the hub path */
  publicHubUrl?: string;
}

const DEFAULT_BRIDGE_PATH = '/internal/realtime/events';

/**
 * The reference service's own settings (the realtime libraries read theirs through their config namespaces).
 * Throws `UnsafeConfigError` when the service would start insecurely; in development it generates what is missing
 * into the installation's secrets file (the same values on every call and in `npm run token`).
 */
export function loadServiceConfig(env: Env): ServiceConfig {
  const role = (readString(env, 'REALTIME_ROLE') ?? 'all') as ServiceRole;
  if (!['all', 'api', 'gateway'].includes(role)) {
    throw new InvalidRealtimeConfigError('REALTIME_ROLE', role, 'all, api or gateway');
  }
  // In process means publisher and gateway in this one process: a split role would publish to nobody.
  const transport = readString(env, 'REALTIME_TRANSPORT');
  if (transport === 'in-process' && role !== 'all') {
    throw new InvalidRealtimeConfigError(
      'REALTIME_TRANSPORT',
      transport,
      `redis-streams, http-bridge or dual with REALTIME_ROLE=${role}: in-process needs the api and the gateway in one process (REALTIME_ROLE=all)`,
    );
  }
  const production = isProduction(env);
  const databasePath = databasePathOf(env);
  const databaseUrl = databaseUrlOf(env);
  const secretsFile = secretsFileOf(env, databasePath);
  const secretSources: Record<string, SecretSource> = {};

  // An identity provider's key replaces the secret; otherwise the secret is required (or generated in development).
  const fromEnv = parseJwtEnv(env);
  const providerSigned = Boolean(fromEnv?.publicKey || fromEnv?.jwksUrl);
  const jwt = providerSigned ? undefined : jwtSecretOf(env, secretsFile);
  if (jwt) secretSources.JWT_SECRET = jwt.source;

  const bridgeUrls = readUrls(env, 'REALTIME_HTTP_BRIDGE_URL', ['http:', 'https:']) ?? [];
  const bridgeReceiver = role !== 'api' && readBoolean(env, 'REALTIME_BRIDGE_RECEIVER', true);
  const bridgePublisher = role !== 'gateway' && (bridgeUrls.length > 0 || (role === 'all' && bridgeReceiver));
  let bridgeSecret: string | undefined;
  if (bridgeReceiver || bridgePublisher) {
    // Only a bridge that never leaves this process (role all, no URLs) may run on a generated secret.
    const bridge = bridgeSecretOf(env, secretsFile, role === 'all' && bridgeUrls.length === 0);
    bridgeSecret = bridge.value;
    secretSources.REALTIME_BRIDGE_SECRET = bridge.source;
  }

  const healthToken = healthTokenOf(env);
  if (healthToken !== undefined) secretSources.HEALTH_TOKEN = 'environment';

  const devTokens = readBoolean(env, 'DEV_TOKENS', !production && jwt !== undefined && jwt.source !== 'environment');
  if (devTokens && !jwt) {
    throw new InvalidRealtimeConfigError(
      'DEV_TOKENS',
      'true',
      'off while tokens are signed by an identity provider (no JWT_SECRET)',
    );
  }
  if (production && devTokens) {
    throw new UnsafeConfigError(
      'DEV_TOKENS',
      'DEV_TOKENS=true is refused with NODE_ENV=production: it lets anyone get a token for any user name. Remove it and issue tokens from your identity provider.',
    );
  }
  return {
    role,
    port: readNumber(env, 'PORT', 3000, 0, 65_535),
    production,
    jwtSecret: jwt?.value,
    jwt: providerSigned ? fromEnv! : { ...fromEnv, secret: jwt!.value },
    devTokens,
    bridgeReceiver,
    bridgePublisher,
    bridgeSecret,
    bridgePath: readString(env, 'REALTIME_BRIDGE_PATH') ?? DEFAULT_BRIDGE_PATH,
    healthToken,
    secretSources,
    secretsFile,
    databasePath,
    databaseUrl,
    outbox: readBoolean(env, 'REALTIME_OUTBOX', true),
    roomsOpen: readBoolean(env, 'ROOMS_OPEN', !production),
    hubPath: readString(env, 'REALTIME_HUB_PATH') ?? '/hubs/chat',
    publicHubUrl: readString(env, 'REALTIME_PUBLIC_HUB_URL'),
  };
}

/** `DATABASE_PATH`, relative to the working directory. @default 'data/chat.sqlite' */
export function databasePathOf(env: Env): string {
  return readString(env, 'DATABASE_PATH') ?? 'data/chat.sqlite';
}

/** `DATABASE_URL`: a PostgreSQL URL, or undefined for SQLite. Anything else is refused, its password never echoed. */
export function databaseUrlOf(env: Env): string | undefined {
  const value = readString(env, 'DATABASE_URL');
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below, without the value: a libpq "host=... password=..." string would show its password
  }
  if (url?.protocol === 'postgres:' || url?.protocol === 'postgresql:') return value;
  // The error redacts the URL's credentials (redactUrl), as every configuration error does.
  throw new InvalidRealtimeConfigError(
    'DATABASE_URL',
    url ? url.toString() : '(not a URL)',
    'a PostgreSQL URL, postgres://user:password@host:5432/database (or postgresql://); leave it unset for SQLite (DATABASE_PATH)',
  );
}

export const serviceConfig = registerAs('service', (): ServiceConfig => loadServiceConfig(process.env));
