import { StreamKeys, clusterSlotOf, shardOf } from '@realtime-streams/contracts';
import { ChatApi, serviceToken } from '../support/chat-api';
import { GapFillingClient } from '../support/gap-filling-client';
import { freePort } from '../support/free-port';
import { RedisCluster } from '../support/redis-cluster';
import { ServiceProcess, type ServiceEnv } from '../support/service-process';

export const SHARDS = 6;
const BRIDGE_SECRET = 'cluster-test-bridge-secret-0123456789abcdef';

/** The shard a room's events go to (the reference service targets `group:room:<id>`). */
export function shardOfRoom(room: string): number {
  return shardOf(`group:room:${room}`, SHARDS);
}

/** The stream keys of the deployment's shards (balanced tags: the deployment runs on a cluster). */
export const STREAM_KEYS = new StreamKeys('realtime', SHARDS, 'balanced').all;

export function slotOfShard(shard: number): number {
  return clusterSlotOf(STREAM_KEYS[shard]);
}

/** One room per shard: `<prefix>-<n>` names found by trying, so every shard carries traffic. */
export function roomPerShard(prefix: string): string[] {
  const rooms = new Array<string | undefined>(SHARDS).fill(undefined);
  for (let n = 0; rooms.some((room) => room === undefined); n++) {
    const room = `${prefix}-${n}`;
    rooms[shardOfRoom(room)] ??= room;
  }
  return rooms as string[];
}

/**
 * What the scale-out tests run: a 6-node Redis Cluster (3 masters, 3 replicas), two gateway processes and two api
 * processes of the reference service, all on the cluster with 6 shards; the apis share one store (`databaseUrl`,
 * PostgreSQL) and fall back to both gateways' bridge receivers.
 */
export class ClusterDeployment {
  readonly gateways: ServiceProcess[] = [];
  readonly apis: ServiceProcess[] = [];
  readonly clients: GapFillingClient[] = [];

  private constructor(readonly cluster: RedisCluster) {}

  static async start(databaseUrl: string, extra: ServiceEnv = {}): Promise<ClusterDeployment> {
    const deployment = new ClusterDeployment(await RedisCluster.start());
    try {
      await deployment.startProcesses(databaseUrl, extra);
    } catch (error) {
      await deployment.dispose();
      throw error;
    }
    return deployment;
  }

  private async startProcesses(databaseUrl: string, extra: ServiceEnv): Promise<void> {
    const shared: ServiceEnv = {
      REDIS_CLUSTER_NODES: this.cluster.seeds,
      REALTIME_STREAM_SHARDS: String(SHARDS),
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      DATABASE_URL: databaseUrl,
      ...extra,
    };
    const gatewayPorts = [await freePort(), await freePort()];
    const gateways = await Promise.all(
      gatewayPorts.map((port, i) =>
        ServiceProcess.start({
          ...shared,
          PORT: String(port),
          REALTIME_ROLE: 'gateway',
          REALTIME_INSTANCE_ID: `cluster-gw-${i}`,
        }),
      ),
    );
    this.gateways.push(...gateways);
    const bridgeUrls = gatewayPorts.map((port) => `http://127.0.0.1:${port}/internal/realtime/events`).join(',');
    const apis = await Promise.all(
      [0, 1].map(() => ServiceProcess.start({ ...shared, REALTIME_ROLE: 'api', REALTIME_HTTP_BRIDGE_URL: bridgeUrls })),
    );
    this.apis.push(...apis);
  }

  /** The api that posts to a room: always the same one for a room (two publishers of one room have no order). */
  apiFor(room: string, user = 'poster'): ChatApi {
    return new ChatApi(this.apiProcessFor(room).baseUrl, user);
  }

  apiProcessFor(room: string): ServiceProcess {
    return this.apis[shardOfRoom(room) % this.apis.length];
  }

  /** The api that does not post to this room: it lists the room from the shared store. */
  otherApiFor(room: string, user = 'reader'): ChatApi {
    return new ChatApi(this.apis.find((api) => api !== this.apiProcessFor(room))!.baseUrl, user);
  }

  /** `perGateway` stock clients in each room on each gateway; they re-join and re-fetch after a reconnect. */
  async connect(rooms: readonly string[], perGateway: number): Promise<Map<string, GapFillingClient[]>> {
    const byRoom = new Map<string, GapFillingClient[]>();
    for (const room of rooms) {
      const inRoom: GapFillingClient[] = [];
      for (const [g, gateway] of this.gateways.entries()) {
        for (let i = 0; i < perGateway; i++) {
          const user = `u-${room}-${g}-${i}`;
          const client = await new GapFillingClient(
            gateway.hubUrl,
            serviceToken(user),
            room,
            this.apiFor(room, user),
          ).start();
          inRoom.push(client);
          this.clients.push(client);
        }
      }
      byRoom.set(room, inRoom);
    }
    return byRoom;
  }

  async disconnectClients(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.stop().catch(() => undefined)));
  }

  async dispose(): Promise<void> {
    await this.disconnectClients();
    await Promise.all([...this.apis, ...this.gateways].map((p) => p.dispose()));
    await this.cluster.dispose();
  }
}
