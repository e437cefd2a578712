import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { errorMessage, InProcessSinkRegistry, withTimeout } from '@realtime-streams/common';
import type { Server } from 'node:http';
import { BridgeReceiverHandler } from './bridge/bridge-receiver.handler';
import { DeliveryService } from './delivery/delivery.service';
import { HttpTakeover } from './http/http-takeover';
import { HubServer } from './hub/hub.server';
import { HttpTransportsHandler } from './hub/transports/http-transports.handler';
import { StatefulSessions } from './hub/session/stateful-sessions';
import { NegotiateHandler } from './hub/negotiate.handler';
import { RESOLVED_GATEWAY_OPTIONS } from './realtime-gateway.constants';
import type { ResolvedGatewayOptions } from './realtime-gateway-options.interface';
import { StreamConsumer } from './stream/stream-consumer';
import { StreamMonitor } from './stream/stream-monitor';
import { ShardInterest } from './stream/shard-interest';

/**
 * Mounts the hub and the bridge receiver on the application's HTTP server, registers the in-process sink, starts
 * the stream consumer; on shutdown stops reading (acknowledging what is in hand), then closes every connection
 * with a reason clients reconnect on.
 */
@Injectable()
export class RealtimeGatewayLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('RealtimeGateway');
  private unregisterSink?: () => void;

  constructor(
    @Inject(RESOLVED_GATEWAY_OPTIONS) private readonly options: ResolvedGatewayOptions,
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly takeover: HttpTakeover,
    private readonly hub: HubServer,
    private readonly negotiate: NegotiateHandler,
    private readonly httpTransports: HttpTransportsHandler,
    private readonly delivery: DeliveryService,
    private readonly sessions: StatefulSessions,
    @Optional() private readonly bridge?: BridgeReceiverHandler,
    @Optional() private readonly consumer?: StreamConsumer,
    @Optional() private readonly monitor?: StreamMonitor,
    @Optional() private readonly interest?: ShardInterest,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) {
      throw new Error(
        'RealtimeGatewayModule needs an HTTP application: create it with NestFactory.create(), not an application context.',
      );
    }
    const { hub, bridge } = this.options;
    this.takeover.route(`${hub.path}/negotiate`, this.negotiate.handle);
    this.takeover.upgrade(hub.path, this.hub.handleUpgrade);
    // Server-Sent Events and long polling: GET, POST and DELETE on the hub's own path.
    this.takeover.route(hub.path, this.httpTransports.handle);
    if (this.bridge && bridge) {
      this.takeover.route(bridge.path, this.bridge.handle);
      this.takeover.route(`${bridge.path}/health`, this.bridge.health);
    }
    this.takeover.attach(server);
    this.hub.start();
    // A target whose order could not be kept: its clients are told to re-fetch.
    this.delivery.closeTarget = (target, reason) => this.hub.closeTargetsConnections([target], reason);
    this.sessions.orderHolds = (target) => this.delivery.holds(target);
    await this.sessions.start();
    if (this.options.inProcess) this.registerInProcessSink();
    await this.monitor?.start();
    await this.consumer?.start();
    this.logger.log(
      `Hub at ${hub.path}; bridge receiver ${bridge ? `at ${bridge.path}` : 'off'}; ` +
        `stream consumer ${this.consumer ? `as group gateway:${this.options.instanceId}` : 'off'}`,
    );
  }

  /**
   * Shutdown within `shutdownTimeoutMs`: refuse new negotiations, upgrades and bridge posts first (503, connections
   * closed) and stop accepting connections, stop reading the stream (what is in hand is delivered and acknowledged),
   * hand stateful sessions over (recorded exactly in Redis, sockets cut without a close message: the clients resume
   * on another instance), then send every other client a close message it reconnects on. Before Nest closes the
   * HTTP server, which waits for every socket.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const budget = this.options.shutdownTimeoutMs;
    this.takeover.drain();
    this.takeover.stopListening();
    // No shard starts or stops from now on: the consumer stops reading them all.
    this.interest?.stop();
    if (this.consumer) {
      await withTimeout(this.consumer.stop(), Math.floor(budget / 2), 'stream consumer stop').catch((error: unknown) =>
        this.logger.warn(`Shutdown: ${errorMessage(error)}; closing anyway`),
      );
    }
    this.unregisterSink?.();
    const handedOver = await this.sessions.handOver(Math.floor(budget / 5));
    if (handedOver > 0) this.logger.log(`Shutdown: ${handedOver} stateful sessions handed over`);
    await this.hub.stop('Server is shutting down.', Math.min(1000, Math.floor(budget / 5)));
  }

  async onApplicationShutdown(): Promise<void> {
    this.delivery.stop();
    await this.monitor?.stop();
    await this.sessions.stop();
    this.takeover.closeConnections(Math.min(1000, Math.floor(this.options.shutdownTimeoutMs / 5)));
    this.takeover.detach();
  }

  /** When the publisher module is in this application, deliver its in-process envelopes directly. */
  private registerInProcessSink(): void {
    let registry: InProcessSinkRegistry;
    try {
      registry = this.moduleRef.get(InProcessSinkRegistry, { strict: false });
    } catch {
      return;
    }
    this.unregisterSink = registry.register((batch) => {
      this.delivery.batch(batch.length, () => {
        for (const outbound of batch) this.delivery.deliver(outbound.envelope, 'in-process', outbound.argsJson);
      });
    });
  }
}
