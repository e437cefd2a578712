import {
  isProductionEnv,
  MetricFactory,
  streamKeyLayoutOf,
  type RealtimeMetricsOption,
} from '@realtime-streams/common';
import { Logger, type Provider } from '@nestjs/common';
import { StreamKeys } from '@realtime-streams/contracts';
import { BridgeReceiverHandler } from './bridge/bridge-receiver.handler';
import { resolveGatewayOptions } from './config/resolve-gateway-options';
import { DeliveryService } from './delivery/delivery.service';
import { InboundEnvelopeReader } from './delivery/inbound-envelope';
import { GatewayHealthIndicator } from './health/gateway.health';
import { HttpTakeover } from './http/http-takeover';
import { ConnectionRegistry } from './hub/connection-registry';
import { CorsPolicy } from './hub/cors-policy';
import { HubConnections } from './hub/hub-connections';
import { HubInvoker } from './hub/hub-invoker';
import { HubMessages } from './hub/hub-messages';
import { HubServer } from './hub/hub.server';
import { NegotiateHandler } from './hub/negotiate.handler';
import { NegotiatedConnections } from './hub/negotiated-connections';
import { UserConnectionCounter } from './hub/user-connection-counter';
import { HttpTransportsHandler } from './hub/transports/http-transports.handler';
import { SessionStore } from './hub/session/session-store';
import { StatefulSessions } from './hub/session/stateful-sessions';
import { StreamPositions } from './hub/session/stream-positions';
import { RealtimeGatewayMetrics } from './metrics/realtime-gateway.metrics';
import { RESOLVED_GATEWAY_OPTIONS } from './realtime-gateway.constants';
import { REALTIME_GATEWAY_OPTIONS } from './realtime-gateway.module-definition';
import type { RealtimeGatewayOptions, ResolvedGatewayOptions } from './realtime-gateway-options.interface';
import { RealtimeGatewayLifecycle } from './realtime-gateway.lifecycle';
import { StreamConsumer } from './stream/stream-consumer';
import { ShardInterest } from './stream/shard-interest';
import { groupName, heartbeatKey } from './stream/stream-groups';
import { StreamMonitor } from './stream/stream-monitor';
import { StreamLayoutCheck } from './stream/stream-layout.check';

type Options = ResolvedGatewayOptions;

/** The shard keys of this deployment's stream layout. */
function streamKeysOf(redis: NonNullable<Options['redis']>): StreamKeys {
  return new StreamKeys(redis.streamKeyPrefix, redis.shards, streamKeyLayoutOf(redis));
}

/** Whether the gateway reads only the shards its connections need (see ShardInterest). */
function routed(o: Options): boolean {
  return !!o.redis?.interestRouting;
}

export const realtimeGatewayProviders: Provider[] = [
  {
    provide: RESOLVED_GATEWAY_OPTIONS,
    inject: [REALTIME_GATEWAY_OPTIONS],
    useFactory: (options: RealtimeGatewayOptions) =>
      resolveGatewayOptions(options, undefined, {
        production: isProductionEnv(process.env),
        warn: (message) => new Logger('RealtimeGateway').warn(message),
      }),
  },
  {
    provide: RealtimeGatewayMetrics,
    inject: [RESOLVED_GATEWAY_OPTIONS],
    useFactory: (options: { metrics?: RealtimeMetricsOption }) =>
      new RealtimeGatewayMetrics(new MetricFactory(options.metrics)),
  },
  ConnectionRegistry,
  {
    // Interest routing: which shards are read follows the targets with a connection here (none without Redis).
    provide: ShardInterest,
    inject: [RESOLVED_GATEWAY_OPTIONS, RealtimeGatewayMetrics, ConnectionRegistry],
    useFactory: (o: Options, metrics: RealtimeGatewayMetrics, registry: ConnectionRegistry) => {
      if (!o.redis || !routed(o)) return undefined;
      // A connection admitted now is registered at its handshake: its shards are held until then at least.
      const timing = { lingerMs: o.redis.routingLingerMs, holdMs: o.hub.handshakeTimeoutMs + 5000 };
      const interest = new ShardInterest(streamKeysOf(o.redis), timing, metrics);
      registry.onTargets((targetKey, present) => interest.targetChanged(targetKey, present));
      return interest;
    },
  },
  {
    provide: InboundEnvelopeReader,
    inject: [RESOLVED_GATEWAY_OPTIONS],
    useFactory: (o: Options) => new InboundEnvelopeReader(o.envelopes),
  },
  {
    // Where the consumer stands on every shard: what stateful sessions record, for a resume on another instance.
    provide: StreamPositions,
    inject: [RESOLVED_GATEWAY_OPTIONS],
    useFactory: (o: Options) => (o.redis ? new StreamPositions(streamKeysOf(o.redis).all, routed(o)) : undefined),
  },
  {
    provide: StatefulSessions,
    inject: [RESOLVED_GATEWAY_OPTIONS, RealtimeGatewayMetrics, InboundEnvelopeReader, StreamPositions],
    useFactory: (
      o: Options,
      metrics: RealtimeGatewayMetrics,
      reader: InboundEnvelopeReader,
      positions: StreamPositions | undefined,
    ) => {
      const shared = o.redis && o.statefulReconnect.enabled && positions;
      const store = shared
        ? new SessionStore(o.redis!, o.redis!.streamKeyPrefix, o.instanceId, o.statefulReconnect.windowMs + 10_000)
        : undefined;
      const keys = o.redis ? streamKeysOf(o.redis) : undefined;
      return new StatefulSessions(o.statefulReconnect, metrics, store, positions, {
        reader,
        keysOf: (targetKeys) => (keys ? [...new Set(targetKeys.map((target) => keys.forTarget(target)))] : []),
        maxEntries: 100_000,
      });
    },
  },
  DeliveryService,
  HttpTakeover,
  UserConnectionCounter,
  {
    provide: NegotiatedConnections,
    inject: [RESOLVED_GATEWAY_OPTIONS],
    useFactory: (o: Options) => new NegotiatedConnections(o.hub.negotiateTtlMs),
  },
  {
    provide: CorsPolicy,
    inject: [RESOLVED_GATEWAY_OPTIONS],
    useFactory: (o: Options) => new CorsPolicy(o.hub.corsOrigins),
  },
  {
    provide: HubConnections,
    inject: [
      ConnectionRegistry,
      UserConnectionCounter,
      NegotiatedConnections,
      StatefulSessions,
      RealtimeGatewayMetrics,
      RESOLVED_GATEWAY_OPTIONS,
      ShardInterest,
    ],
    useFactory: (
      registry: ConnectionRegistry,
      userSockets: UserConnectionCounter,
      negotiated: NegotiatedConnections,
      sessions: StatefulSessions,
      metrics: RealtimeGatewayMetrics,
      o: Options,
      interest: ShardInterest | undefined,
    ) => new HubConnections(registry, userSockets, negotiated, sessions, metrics, o, interest),
  },
  {
    provide: HubInvoker,
    inject: [HubConnections, RESOLVED_GATEWAY_OPTIONS, RealtimeGatewayMetrics],
    useFactory: (connections: HubConnections, o: Options, metrics: RealtimeGatewayMetrics) =>
      new HubInvoker(connections, o.hub, o.limits.maxGroupsPerConnection, metrics),
  },
  {
    provide: HubMessages,
    inject: [RESOLVED_GATEWAY_OPTIONS, HubConnections, HubInvoker, RealtimeGatewayMetrics],
    useFactory: (o: Options, connections: HubConnections, invoker: HubInvoker, metrics: RealtimeGatewayMetrics) =>
      new HubMessages(o, connections, invoker, metrics),
  },
  {
    provide: NegotiateHandler,
    inject: [
      RESOLVED_GATEWAY_OPTIONS,
      NegotiatedConnections,
      CorsPolicy,
      UserConnectionCounter,
      RealtimeGatewayMetrics,
      StatefulSessions,
    ],
    useFactory: (
      o: Options,
      negotiated: NegotiatedConnections,
      cors: CorsPolicy,
      openSockets: UserConnectionCounter,
      metrics: RealtimeGatewayMetrics,
      sessions: StatefulSessions,
    ) =>
      new NegotiateHandler(
        o.verifier,
        negotiated,
        cors,
        openSockets,
        o.limits.maxConnectionsPerUser,
        metrics,
        sessions,
        o.hub.negotiateTtlMs,
        o.hub.transports,
      ),
  },
  {
    provide: HubServer,
    inject: [
      RESOLVED_GATEWAY_OPTIONS,
      NegotiatedConnections,
      CorsPolicy,
      HubConnections,
      ConnectionRegistry,
      StatefulSessions,
      HubMessages,
      RealtimeGatewayMetrics,
    ],
    useFactory: (
      o: Options,
      negotiated: NegotiatedConnections,
      cors: CorsPolicy,
      connections: HubConnections,
      registry: ConnectionRegistry,
      sessions: StatefulSessions,
      messages: HubMessages,
      metrics: RealtimeGatewayMetrics,
    ) => new HubServer(o, negotiated, cors, connections, registry, sessions, messages, metrics),
  },
  {
    provide: HttpTransportsHandler,
    inject: [RESOLVED_GATEWAY_OPTIONS, HubServer, CorsPolicy, RealtimeGatewayMetrics],
    useFactory: (o: Options, hub: HubServer, cors: CorsPolicy, metrics: RealtimeGatewayMetrics) =>
      new HttpTransportsHandler(hub, o.verifier, cors, o.hub, metrics),
  },
  {
    provide: BridgeReceiverHandler,
    inject: [RESOLVED_GATEWAY_OPTIONS, InboundEnvelopeReader, DeliveryService, RealtimeGatewayMetrics, HubServer],
    useFactory: (
      o: Options,
      reader: InboundEnvelopeReader,
      delivery: DeliveryService,
      metrics: RealtimeGatewayMetrics,
      hub: HubServer,
    ) =>
      o.bridge
        ? new BridgeReceiverHandler(o.bridge.secret, o.bridge.maxBodyBytes, reader, delivery, metrics, (targets, why) =>
            hub.closeTargetsConnections(targets, why),
          )
        : undefined,
  },
  {
    provide: StreamConsumer,
    inject: [
      RESOLVED_GATEWAY_OPTIONS,
      InboundEnvelopeReader,
      DeliveryService,
      RealtimeGatewayMetrics,
      HubServer,
      StreamPositions,
      ShardInterest,
    ],
    useFactory: (
      o: Options,
      reader: InboundEnvelopeReader,
      delivery: DeliveryService,
      metrics: RealtimeGatewayMetrics,
      hub: HubServer,
      positions: StreamPositions | undefined,
      interest: ShardInterest | undefined,
    ) => {
      if (!o.redis) return undefined;
      const keys = streamKeysOf(o.redis).all;
      const consumer = new StreamConsumer(
        {
          connection: o.redis,
          heartbeatKey: heartbeatKey(o.redis.streamKeyPrefix, o.instanceId),
          heartbeatTtlMs: o.redis.groupMaxIdleMs,
          keys,
          group: groupName(o.instanceId),
          consumer: o.instanceId,
          blockMs: o.redis.blockMs,
          readCount: o.redis.readCount,
        },
        reader,
        delivery,
        metrics,
        // Missed entries have unknown targets: every client is told to reconnect and re-fetch.
        (reason) => hub.closeAllConnections(reason),
        positions,
        interest !== undefined,
      );
      if (!interest) metrics.shardsRead(keys.length);
      interest?.readWith(consumer);
      return consumer;
    },
  },
  {
    provide: StreamMonitor,
    inject: [RESOLVED_GATEWAY_OPTIONS, RealtimeGatewayMetrics, StreamConsumer],
    useFactory: (o: Options, metrics: RealtimeGatewayMetrics, consumer: StreamConsumer | undefined) =>
      o.redis
        ? new StreamMonitor(
            {
              connection: o.redis,
              keys: streamKeysOf(o.redis).all,
              readKeys: consumer && routed(o) ? () => consumer.readKeys : undefined,
              group: groupName(o.instanceId),
              intervalMs: o.redis.monitorIntervalMs,
              groupMaxIdleMs: o.redis.groupMaxIdleMs,
              heartbeatKey: heartbeatKey(o.redis.streamKeyPrefix, o.instanceId),
              heartbeatKeyOf: (instanceId: string) => heartbeatKey(o.redis!.streamKeyPrefix, instanceId),
              positions: consumer?.sequences,
              layout: new StreamLayoutCheck({
                prefix: o.redis.streamKeyPrefix,
                shards: o.redis.shards,
                keys: streamKeyLayoutOf(o.redis),
              }),
            },
            metrics,
          )
        : undefined,
  },
  RealtimeGatewayLifecycle,
  GatewayHealthIndicator,
];

export const realtimeGatewayExports = [
  GatewayHealthIndicator,
  ConnectionRegistry,
  DeliveryService,
  RESOLVED_GATEWAY_OPTIONS,
];
