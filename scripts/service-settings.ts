import type { ServiceConfig } from '../src/config/service.config';

/** A variable the reference service reads itself (src/config), as `.env.example` documents it. */
export interface ServiceSetting {
  name: string;
  /** One line: what it does. */
  doc: string;
  /** The value the service uses when it is unset; none when that depends on other settings. */
  defaultValue?: string;
  /** Never given a value in `.env.example`. */
  secret?: boolean;
  /** The `loadServiceConfig` field it sets: the env-example spec checks `defaultValue` against it. */
  field?: keyof ServiceConfig;
}

// src/config reads these by hand (env-readers.ts), not through a schema, so they are declared here; the spec fails
// when the service reads a variable missing from .env.example or when a default here is not the service's.

export const SERVICE_SECRETS: readonly ServiceSetting[] = [
  {
    name: 'JWT_SECRET',
    doc: 'HS256 secret of client and API tokens. Production: required, unless JWT_PUBLIC_KEY or JWT_JWKS_URL is set (the identity provider signs tokens).',
    secret: true,
  },
  {
    name: 'REALTIME_BRIDGE_SECRET',
    doc: 'Bearer secret of the HTTP bridge, the same in every api and gateway process. Generated only in role all.',
    secret: true,
  },
  {
    name: 'REALTIME_SECRETS_FILE',
    doc: 'Where development mode keeps the secrets it generated (mode 0600); `npm run token` reads it too. Default: secrets.json next to DATABASE_PATH (data/secrets.json).',
  },
  {
    name: 'HEALTH_TOKEN',
    doc: 'Optional, never generated. Production: /health shows its details (bridge URLs, errors) only to Authorization: Bearer <HEALTH_TOKEN> (32+ characters); everyone else gets {"status":"ok"|"error"}.',
    secret: true,
  },
];

export const SERVICE_SETTINGS: readonly ServiceSetting[] = [
  { name: 'PORT', doc: 'HTTP port of the reference service.', defaultValue: '3000', field: 'port' },
  {
    name: 'REALTIME_ROLE',
    doc: 'all (API + gateway in one process), api or gateway.',
    defaultValue: 'all',
    field: 'role',
  },
  {
    name: 'NODE_ENV',
    doc: 'production: secrets required (32+ characters), nothing generated, DEV_TOKENS refused, rooms members-only by default.',
  },
  {
    name: 'DATABASE_PATH',
    doc: "SQLite file of the service's messages, rooms and members.",
    defaultValue: 'data/chat.sqlite',
    field: 'databasePath',
  },
  {
    name: 'DATABASE_URL',
    doc: 'PostgreSQL instead of SQLite (postgres://user:password@127.0.0.1:5432/chat), shared by several api instances and the gateways; the secrets file stays next to DATABASE_PATH.',
  },
  {
    name: 'REALTIME_OUTBOX',
    doc: "Durable accept: each message's envelope is stored in the message's transaction.",
    defaultValue: 'true',
    field: 'outbox',
  },
  {
    name: 'ROOMS_OPEN',
    doc: 'true: every user may read, post to and join every room; false: members only. Default: true, false in production.',
  },
  {
    name: 'DEV_TOKENS',
    doc: 'The demo page may fetch a token for any user name. Default: on while JWT_SECRET is generated; refused in production.',
  },
  {
    name: 'REALTIME_HUB_PATH',
    doc: 'Path of the chat hub; the service sets it for the gateway.',
    defaultValue: '/hubs/chat',
    field: 'hubPath',
  },
  {
    name: 'REALTIME_PUBLIC_HUB_URL',
    doc: 'Hub URL the demo page connects to (e.g. another gateway). Default: the hub path, same origin.',
    field: 'publicHubUrl',
  },
  {
    name: 'REALTIME_BRIDGE_RECEIVER',
    doc: 'false: the gateway (roles gateway, all) takes no bridge posts and needs no REALTIME_BRIDGE_SECRET; events come through Redis only.',
    defaultValue: 'true',
    field: 'bridgeReceiver',
  },
  {
    name: 'REALTIME_ENV_FILE',
    doc: 'The env file the service loads at start, and re-reads on SIGHUP for new routing flags.',
    defaultValue: '.env',
  },
];
