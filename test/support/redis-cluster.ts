import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { freePort } from './free-port';
import { RedisServer } from './redis-server';

const run = promisify(execFile);
export const SLOTS = 16384;

/** One line of `CLUSTER NODES`, as much of it as the tests need. */
export interface ClusterNode {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  /** A replica's master (its node id); undefined for a master. */
  masterId?: string;
  /** Slot ranges it serves (masters only), inclusive. */
  slots: Array<[from: number, to: number]>;
}

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a silent master takes to be failed over. */
  nodeTimeoutMs?: number;
  /** `requirepass` (and `masterauth`, so replicas can sync) on every node. */
  password?: string;
}

/**
 * A real Redis Cluster of the test's own: `redis-server` processes on free ports (cluster bus on a free port of its
 * own too), keeping nothing on disk but their `nodes.conf`, joined with `redis-cli --cluster create`. Defaults: 3
 * masters with one replica each and a 1 s node timeout, so a killed master is failed over in about 2 s. A killed
 * node restarted later comes back empty and rejoins (as a replica of whoever took its slots).
 */
export class RedisCluster {
  private constructor(
    readonly servers: RedisServer[],
    readonly password?: string,
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    // Another process can still bind a port between our check and redis-server's: start again on other ports.
    for (let attempt = 1; ; attempt++) {
      try {
        return await RedisCluster.startOnce(options);
      } catch (error) {
        if (attempt >= 3 || !String(error).includes('Address already in use')) throw error;
      }
    }
  }

  private static async startOnce(options: RedisClusterOptions): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const count = masters * (1 + (options.replicasPerMaster ?? 1));
    const servers: RedisServer[] = [];
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const busPort = await freePort();
      servers.push(
        new RedisServer(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          String(options.nodeTimeoutMs ?? 1000),
          // A replica takes over however long it was cut off: the tests kill masters on purpose.
          '--cluster-replica-validity-factor',
          '0',
          '--cluster-allow-replica-migration',
          'no',
          // As the scaling docs recommend: a master marked failed stops its own slots, not the whole cluster.
          '--cluster-require-full-coverage',
          'no',
          ...(options.password ? ['--requirepass', options.password, '--masterauth', options.password] : []),
        ]),
      );
    }
    const cluster = new RedisCluster(servers, options.password);
    try {
      await Promise.all(servers.map((s) => s.start()));
      await run('redis-cli', [
        '--cluster',
        'create',
        ...servers.map((s) => `127.0.0.1:${s.port}`),
        '--cluster-replicas',
        String(options.replicasPerMaster ?? 1),
        '--cluster-yes',
        ...(options.password ? ['-a', options.password, '--no-auth-warning'] : []),
      ]);
      await cluster.waitUntilOk();
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** `host:port,host:port,...`: what `REDIS_CLUSTER_NODES` takes. */
  get seeds(): string {
    return this.servers.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  get seedNodes(): Array<{ host: string; port: number }> {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  server(port: number): RedisServer {
    const server = this.servers.find((s) => s.port === port);
    if (!server) throw new Error(`no node on port ${port}`);
    return server;
  }

  /** A cluster client for assertions (caller quits it). */
  client(): Cluster {
    return new Cluster(this.seedNodes, { redisOptions: { maxRetriesPerRequest: 1, password: this.password } });
  }

  /** The cluster as one running node sees it. */
  async nodes(): Promise<ClusterNode[]> {
    const text = await this.ask((redis) => redis.call('CLUSTER', 'NODES') as Promise<string>);
    return parseClusterNodes(text);
  }

  async masters(): Promise<ClusterNode[]> {
    return (await this.nodes()).filter((n) => n.master && !n.failed && n.slots.length > 0);
  }

  /** The master serving `slot` now. */
  async masterOf(slot: number): Promise<ClusterNode> {
    const master = (await this.masters()).find((n) => n.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master;
  }

  /** The replica of a master (the first one listed). */
  async replicaOf(master: ClusterNode): Promise<ClusterNode> {
    const replica = (await this.nodes()).find((n) => n.masterId === master.id && !n.failed);
    if (!replica) throw new Error(`master on ${master.port} has no replica`);
    return replica;
  }

  /**
   * Closes a master's links to its replicas (`CLIENT KILL TYPE replica`): until a replica reconnects, what the
   * master acknowledges exists only on the master. With the replica paused, it stays that way.
   */
  async dropReplicationLinks(port: number): Promise<void> {
    await this.askNode(port, (redis) => redis.call('CLIENT', 'KILL', 'TYPE', 'replica'));
  }

  /** kill -9 of one node: its connections drop, its data is gone; its replica takes over after the node timeout. */
  async kill(port: number): Promise<void> {
    await this.server(port).kill();
  }

  /** Restarts a killed node on its port (empty; it rejoins from its nodes.conf). */
  async restart(port: number): Promise<void> {
    await this.server(port).start();
  }

  /** Every node down at once (a whole-cluster outage). */
  async killAll(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.kill()));
  }

  /** Every node back (empty), and the cluster whole again. */
  async restartAll(): Promise<void> {
    await Promise.all(this.servers.filter((s) => !s.running).map((s) => s.start()));
    await this.waitUntilOk();
  }

  /**
   * Until every running node says `cluster_state:ok`, every slot is served by a master every node agrees on, and
   * every live master has its replicas in sync.
   */
  async waitUntilOk(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const views = await Promise.all(
          this.servers
            .filter((s) => s.running)
            .map((s) =>
              this.askNode(s.port, async (redis) => ({
                info: (await redis.call('CLUSTER', 'INFO')) as string,
                nodes: parseClusterNodes((await redis.call('CLUSTER', 'NODES')) as string),
              })),
            ),
        );
        const owners = views.map(({ nodes }) => slotOwners(nodes));
        const agreed = owners.every((o) => o === owners[0]) && owners[0] !== '';
        const ok = views.every(({ info }) => info.includes('cluster_state:ok'));
        if (ok && agreed) return;
        last = views.map((v) => v.info.split('\r\n')[0]).join(' ');
      } catch (error) {
        last = String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`cluster not ok in ${timeoutMs} ms: ${last}`);
  }

  /**
   * Moves one slot, with its keys, from the master serving it to `toPort` while traffic flows: the target imports,
   * the source migrates, the keys go over in `MIGRATE` batches, then every master is told the new owner (the
   * standard `CLUSTER SETSLOT` + `MIGRATE` resharding, as `redis-cli --cluster reshard` does it).
   */
  async moveSlot(slot: number, toPort: number): Promise<void> {
    const source = await this.masterOf(slot);
    const target = (await this.nodes()).find((n) => n.port === toPort);
    if (!target) throw new Error(`no node on port ${toPort}`);
    if (source.id === target.id) return;
    await this.askNode(target.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id));
    await this.askNode(source.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id));
    await this.askNode(source.port, async (redis) => {
      for (;;) {
        const keys = (await redis.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
        if (keys.length === 0) break;
        await redis.call('MIGRATE', '127.0.0.1', target.port, '', 0, 5000, 'KEYS', ...keys);
      }
    });
    for (const master of await this.masters())
      await this.askNode(master.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id));
    await this.askNode(source.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.dispose()));
    for (const s of this.servers) rmSync(s.directory, { recursive: true, force: true });
  }

  private async ask<T>(question: (redis: Redis) => Promise<T>): Promise<T> {
    let lastError: Error | undefined;
    for (const server of this.servers.filter((s) => s.running)) {
      try {
        return await this.askNode(server.port, question);
      } catch (error) {
        lastError = error as Error;
      }
    }
    throw lastError ?? new Error('no node is running');
  }

  private async askNode<T>(port: number, question: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      password: this.password,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      return await question(redis);
    } finally {
      redis.disconnect();
    }
  }
}

export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(' ');
      return {
        id,
        masterId: masterId === '-' ? undefined : masterId,
        port: Number(address.split('@')[0].split(':')[1]),
        master: flags.includes('master'),
        failed: flags.includes('fail') && !flags.includes('fail?') ? true : flags.includes('noaddr'),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [from, to] = s.split('-').map(Number);
            return [from, to ?? from] as [number, number];
          }),
      };
    });
}

/** Who serves which slots, as one string, to compare the views of two nodes. */
function slotOwners(nodes: ClusterNode[]): string {
  const live = nodes.filter((n) => n.master && !n.failed && n.slots.length > 0);
  const covered = live.reduce((sum, n) => sum + n.slots.reduce((s, [from, to]) => s + to - from + 1, 0), 0);
  if (covered !== SLOTS) return '';
  return live
    .map((n) => `${n.port}:${n.slots.map(([f, t]) => `${f}-${t}`).join(',')}`)
    .sort()
    .join(' ');
}
