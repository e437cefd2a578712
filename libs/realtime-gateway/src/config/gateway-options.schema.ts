import {
  codeOnly,
  envelopeLimitSettings,
  integer,
  metricsSetting,
  redisConnectionSettings,
  section,
  setting,
  streamLayoutSettings,
  urlOf,
} from '@realtime-streams/common';
import { z } from 'zod';
import type { AccessTokenVerifier, AuthenticatedUser } from '../auth/access-token-verifier';
import type { GroupMethods, HubMethod } from '../realtime-gateway-hooks.interface';

const PATH = /^\/[A-Za-z0-9._~\-/]*$/;
const path = (fallback: string) =>
  z
    .string()
    .regex(PATH, 'a path starting with /')
    .transform((value) => (value.length > 1 ? value.replace(/\/+$/, '') : value))
    .default(fallback);
const isFunction = (value: unknown) => typeof value === 'function';

const hubSchema = z.object({
  path: setting(path('/hubs/realtime'), {
    env: 'REALTIME_HUB_PATH',
    doc: 'Path of the SignalR hub (negotiate is `<path>/negotiate`).',
  }),
  /** Group membership methods. @default [{ join: 'JoinGroup', leave: 'LeaveGroup' }] */
  groupMethods: codeOnly<GroupMethods[]>(Array.isArray, 'a list of { join, leave, toGroup? }').optional(),
  /** Decides whether a user may join a group. @default every authenticated user may join any group */
  authorizeGroup: codeOnly<(user: AuthenticatedUser, group: string) => boolean | Promise<boolean>>(
    isFunction,
    'a function',
  ).optional(),
  /** More hub methods clients can `invoke`/`send`, by name (case-insensitive). */
  methods: codeOnly<Record<string, HubMethod>>(
    (value) => typeof value === 'object' && value !== null,
    'an object',
  ).optional(),
  corsOrigins: setting(z.union([z.literal('*'), z.array(z.string().min(1))]).default([]), {
    env: 'REALTIME_CORS_ORIGINS',
    doc: 'Comma-separated origins allowed to negotiate and connect, or `*`.',
    shownDefault: '(same origin only)',
  }),
  keepAliveIntervalMs: setting(integer(100, 600_000).default(15_000), {
    env: 'REALTIME_KEEPALIVE_MS',
    doc: 'Ping interval of an idle connection.',
  }),
  clientTimeoutMs: setting(integer(100, 3_600_000).default(30_000), {
    env: 'REALTIME_CLIENT_TIMEOUT_MS',
    doc: 'A client silent this long is closed (the stock client pings every 15 s).',
  }),
  handshakeTimeoutMs: setting(integer(100, 600_000).default(15_000), {
    doc: 'Time a client has to send its handshake.',
  }),
  maxMessageBytes: setting(integer(256, 64 * 1024 * 1024).default(64 * 1024), {
    env: 'REALTIME_MAX_MESSAGE_BYTES',
    doc: 'Largest message a client may send.',
  }),
  negotiateTtlMs: setting(integer(100, 3_600_000).default(30_000), {
    doc: 'Time between negotiate and the WebSocket connect.',
  }),
  transports: setting(
    z
      .array(z.enum(['WebSockets', 'ServerSentEvents', 'LongPolling']))
      .min(1)
      .default(['WebSockets', 'ServerSentEvents', 'LongPolling']),
    {
      env: 'REALTIME_HUB_TRANSPORTS',
      doc:
        'Transports negotiate offers, in the order clients try them (comma-separated). ServerSentEvents and ' +
        'LongPolling need sticky sessions across instances.',
    },
  ),
  batchWrites: setting(z.boolean().default(true), {
    env: 'REALTIME_BATCH_WRITES',
    doc:
      'Messages for one connection ready in the same turn (one stream read, one bridge batch) go out as one frame ' +
      'of several messages; false writes each on its own.',
  }),
  longPollTimeoutMs: setting(integer(100, 99_000).default(90_000), {
    doc: 'A long poll with nothing to return answers empty after this (under the stock client 100 s request timeout).',
  }),
});

const list = () => z.array(z.string().min(1)).optional();
const oneOrMany = () => z.union([z.string().min(1), z.array(z.string().min(1))]).optional();

/** `JWT_*`: how client tokens are verified. */
export const jwtSettingsSchema = z.object({
  secret: setting(z.string().min(1).optional(), {
    env: 'JWT_SECRET',
    doc: 'HS256 secret of client tokens: at least 32 bytes (`openssl rand -base64 32`); shorter is refused in production and warned about otherwise.',
    secret: true,
  }),
  publicKey: setting(z.string().min(1).optional(), {
    env: 'JWT_PUBLIC_KEY',
    doc: 'PEM public key of RS256/ES256 tokens (`\\n` escapes allowed), instead of `JWT_SECRET`.',
  }),
  publicKeyFile: setting(z.string().min(1).optional(), {
    env: 'JWT_PUBLIC_KEY_FILE',
    doc: 'File holding that PEM key.',
  }),
  jwksUrl: setting(urlOf(['https:', 'http:']).optional(), {
    env: 'JWT_JWKS_URL',
    doc: 'JSON Web Key Set of the identity provider, instead of `JWT_SECRET`.',
  }),
  algorithms: setting(list(), {
    env: 'JWT_ALGORITHMS',
    doc: 'Accepted token algorithms.',
    shownDefault: '`HS256` with a secret, `RS256,ES256` with a key',
  }),
  issuer: setting(oneOrMany(), { env: 'JWT_ISSUER', doc: 'Required `iss` (comma-separated: any of).' }),
  audience: setting(oneOrMany(), { env: 'JWT_AUDIENCE', doc: 'Required `aud` (comma-separated: any of).' }),
  maxLifetimeSec: setting(integer(0, 366 * 86_400).optional(), {
    env: 'JWT_MAX_LIFETIME_S',
    doc: 'Tokens living longer are refused; 0 or unset: no maximum.',
  }),
  clockToleranceSec: setting(integer(0, 3600).default(30), {
    env: 'JWT_CLOCK_TOLERANCE_S',
    doc: 'Clock difference tolerated on `exp`, `nbf`, `iat`.',
  }),
});

const jwtSchema = section(jwtSettingsSchema, {
  presentWhen: ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_PUBLIC_KEY_FILE', 'JWT_JWKS_URL'],
});

const authSchema = section(
  z.object({
    /** How tokens are checked, when not by JWT settings. */
    verifier: codeOnly<AccessTokenVerifier>(
      (value) => typeof (value as AccessTokenVerifier | undefined)?.verify === 'function',
      'an AccessTokenVerifier',
    ).optional(),
    jwt: jwtSchema.optional(),
    jwtSecret: setting(z.string().min(1).optional(), { doc: 'Shortcut for `jwt: { secret }`.', secret: true }),
    closeOnExpiration: setting(z.boolean().default(true), {
      env: 'REALTIME_CLOSE_ON_TOKEN_EXPIRY',
      doc: 'Close an open connection (reconnectable) when its token expires.',
    }),
  }),
  { always: true },
);

const redisSchema = section(
  z.object({
    ...redisConnectionSettings,
    ...streamLayoutSettings,
    blockMs: setting(integer(10, 60_000).default(5000), {
      env: 'REALTIME_CONSUMER_BLOCK_MS',
      doc: '`XREADGROUP ... BLOCK`. A read not answered 1 s past it shows the consumer failing in health; 3 s past it, the connection is replaced.',
    }),
    readCount: setting(integer(1, 100_000).default(256), {
      env: 'REALTIME_CONSUMER_READ_COUNT',
      doc: 'Entries per read.',
    }),
    groupMaxIdleMs: setting(integer(100, 30 * 86_400_000).default(3_600_000), {
      env: 'REALTIME_GROUP_MAX_IDLE_MS',
      doc: 'Groups of instances without a heartbeat for this long are removed.',
    }),
    monitorIntervalMs: setting(integer(100, 3_600_000).default(5000), {
      doc: 'Interval of lag, pending and trimming checks.',
    }),
    interestRouting: setting(z.boolean().default(true), {
      env: 'REALTIME_INTEREST_ROUTING',
      doc: 'Read only the shards holding a target (room, user, everyone) with a connection here, from the moment it got its first one (docs/scaling-out.md). Off: every shard, always.',
    }),
    routingLingerMs: setting(integer(0, 3_600_000).default(30_000), {
      env: 'REALTIME_ROUTING_LINGER_MS',
      doc: 'How long a shard is read on after its last target here went (a page reload does not stop and restart it).',
    }),
  }),
  { toggle: 'REALTIME_GATEWAY_REDIS', toggleDefault: true },
);

const bridgeSchema = section(
  z.object({
    path: setting(path('/internal/realtime/events'), {
      env: 'REALTIME_BRIDGE_PATH',
      doc: 'Path of the bridge receiver (on when `REALTIME_BRIDGE_SECRET` is set).',
    }),
    secret: setting(z.string().min(1), {
      env: 'REALTIME_BRIDGE_SECRET',
      doc: 'Bearer secret publishers must send to the bridge receiver; unset: no receiver.',
      secret: true,
    }),
    maxBodyBytes: setting(integer(1024, 1024 * 1024 * 1024).default(5 * 1024 * 1024), {
      env: 'REALTIME_BRIDGE_MAX_BODY_BYTES',
      doc: 'Largest bridge request body.',
    }),
  }),
  { presentWhen: ['REALTIME_BRIDGE_SECRET'] },
);

/** What the publishers send with (the transport's `transport`): the inputs a gateway opens follow from it. */
export const GATEWAY_INPUT_MODES = ['redis-streams', 'http-bridge', 'in-process', 'dual'] as const;
export type GatewayInputMode = (typeof GATEWAY_INPUT_MODES)[number];

/**
 * Every option of `RealtimeGatewayModule`: types, defaults, bounds, environment variables and the configuration
 * reference (docs/configuration.md) all come from here. Hooks (group methods, authorization, a verifier) come from
 * code only.
 */
export const realtimeGatewaySchema = z.object({
  transport: setting(z.enum(GATEWAY_INPUT_MODES).optional(), {
    env: 'REALTIME_TRANSPORT',
    doc: 'What the publishers send with, the same variable as theirs: `redis-streams` reads the streams (and takes bridge requests when `REALTIME_BRIDGE_SECRET` is set), `http-bridge` takes bridge requests only (no Redis), `in-process` takes what this app publishes only, `dual` both.',
    shownDefault: 'every input configured',
  }),
  instanceId: setting(z.string().min(1).max(200).optional(), {
    env: 'REALTIME_INSTANCE_ID',
    doc: 'Gateway instance name; its consumer group is `gateway:<id>`.',
    shownDefault: '`<hostname>-<pid>`',
  }),
  hub: hubSchema.prefault({}),
  auth: authSchema,
  redis: redisSchema.optional(),
  bridge: bridgeSchema.optional(),
  slowClients: z
    .object({
      softLimitBytes: setting(integer(1024, 1 << 30).default(256 * 1024), {
        env: 'REALTIME_SLOW_CLIENT_SOFT_BYTES',
        doc: 'Above this much unread on a socket, volatile envelopes are skipped for it.',
      }),
      hardLimitBytes: setting(integer(1024, 1 << 30).default(1024 * 1024), {
        env: 'REALTIME_SLOW_CLIENT_HARD_BYTES',
        doc: 'A socket with more than this already waiting is closed (the envelope at hand does not count).',
      }),
    })
    .prefault({}),
  envelopes: z.object({ ...envelopeLimitSettings }).prefault({}),
  dedup: z
    .object({
      ttlMs: setting(integer(1000, 86_400_000).default(300_000), {
        env: 'REALTIME_DEDUP_TTL_MS',
        doc: 'How long an envelope id is remembered.',
      }),
      maxEntries: setting(integer(100, 10_000_000).default(100_000), {
        env: 'REALTIME_DEDUP_MAX_ENTRIES',
        doc: 'Ids remembered at most.',
      }),
    })
    .prefault({}),
  ordering: z
    .object({
      holdMs: setting(integer(10, 600_000).default(2000), {
        env: 'REALTIME_ORDER_HOLD_MS',
        doc: "How long a target's numbered event (envelope `seq`) waits for a missing earlier one; then the target's clients are closed (reconnectable) to re-fetch.",
      }),
      firstHoldMs: setting(integer(0, 600_000).default(200), {
        env: 'REALTIME_ORDER_FIRST_HOLD_MS',
        doc: 'How long the first numbered event of a target this gateway has not seen yet waits for an earlier one, when the target has clients here (a just-started gateway cannot know the last number).',
      }),
      maxTargets: setting(integer(100, 10_000_000).default(100_000), {
        env: 'REALTIME_ORDER_MAX_TARGETS',
        doc: 'Targets whose last number is remembered at most; the least recently used is forgotten first.',
      }),
      maxHeld: setting(integer(10, 10_000_000).default(10_000), {
        env: 'REALTIME_ORDER_MAX_HELD',
        doc: 'Numbered events held for a missing earlier one at most, all targets together; past it the target at hand is given up (its clients closed to re-fetch).',
      }),
    })
    .prefault({}),
  limits: z
    .object({
      invocationsPerSecond: setting(integer(1, 100_000).default(20), {
        env: 'REALTIME_MAX_INVOCATIONS_PER_SECOND',
        doc: 'Hub invocations per connection per second, sustained.',
      }),
      invocationBurst: setting(integer(1, 1_000_000).default(40), {
        env: 'REALTIME_INVOCATION_BURST',
        doc: 'Invocations a connection may make at once above the rate.',
      }),
      maxRefusedInvocations: setting(integer(1, 1_000_000).default(100), {
        env: 'REALTIME_MAX_REFUSED_INVOCATIONS',
        doc: 'Refused invocations in a row that close the connection.',
      }),
      maxGroupsPerConnection: setting(integer(1, 1_000_000).default(100), {
        env: 'REALTIME_MAX_GROUPS_PER_CONNECTION',
        doc: 'Groups one connection may be in.',
      }),
      maxConnectionsPerUser: setting(integer(1, 1_000_000).default(20), {
        env: 'REALTIME_MAX_CONNECTIONS_PER_USER',
        doc: 'Hub connections (open, negotiated, or stateful sessions waiting to resume) one user may hold on one gateway.',
      }),
      maxInvocationArguments: setting(integer(1, 10_000).default(32), {
        env: 'REALTIME_MAX_INVOCATION_ARGUMENTS',
        doc: 'Arguments one hub invocation may pass; past it the call gets an error (their nesting is bounded by `REALTIME_MAX_ARGS_DEPTH`).',
      }),
    })
    .prefault({}),
  statefulReconnect: z
    .object({
      enabled: setting(z.boolean().default(true), {
        env: 'REALTIME_STATEFUL_RECONNECT',
        doc: 'Offer SignalR stateful reconnect to clients that ask (`withStatefulReconnect()`).',
      }),
      bufferBytes: setting(integer(1024, 1 << 30).default(100_000), {
        env: 'REALTIME_RECONNECT_BUFFER_BYTES',
        doc: 'Unacknowledged bytes kept per stateful connection; past it the client is closed (reconnectable) and starts over.',
      }),
      windowMs: setting(integer(100, 3_600_000).default(30_000), {
        env: 'REALTIME_RECONNECT_WINDOW_MS',
        doc: 'How long a stateful session whose socket went stays resumable, on any instance.',
      }),
      maxRecordBytes: setting(integer(4096, 1 << 30).default(1024 * 1024), {
        env: 'REALTIME_SESSION_RECORD_MAX_BYTES',
        doc: 'Largest session record written to Redis; a session whose record would be larger resumes only on its own instance (elsewhere the client starts over).',
      }),
    })
    .prefault({}),
  shutdownTimeoutMs: setting(integer(0, 600_000).default(5000), {
    env: 'REALTIME_SHUTDOWN_TIMEOUT_MS',
    doc: 'Time a gateway shutdown may take: it refuses new clients (503), stops reading and closes every client with a reconnectable close message.',
  }),
  /** Receive envelopes published in this process (the transport's `inProcess` mode). */
  inProcess: z.boolean().default(true),
  /** Metrics registry: prom-client's default one when prom-client is installed; `false` turns metrics off. */
  metrics: metricsSetting,
});
