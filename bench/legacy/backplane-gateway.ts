import { TsChild } from '../../test/support/child-process';
import { freePort } from '../../test/support/free-port';
import { SERVICE_JWT_SECRET } from '../../test/support/service-process';
import type { BackplaneChannels } from './backplane-relay';

/**
 * One legacy realtime server with its backplane relay (backplane-gateway.process.ts) in a process of its own: the
 * hub at `hubUrl`, the legacy API's POST at `relayUrl`.
 */
export class BackplaneGateway {
  private constructor(
    private readonly child: TsChild,
    readonly port: number,
    readonly relayUrl: string,
  ) {}

  static async start(options: {
    redisUrl: string;
    channels: BackplaneChannels;
    bridgeSecret: string;
    instanceId: string;
  }): Promise<BackplaneGateway> {
    const port = await freePort();
    const relayPort = await freePort();
    const child = new TsChild('bench/legacy/backplane-gateway.process.ts', {
      PORT: String(port),
      RELAY_PORT: String(relayPort),
      REDIS_URL: options.redisUrl,
      BACKPLANE_CHANNELS: options.channels,
      BRIDGE_SECRET: options.bridgeSecret,
      JWT_SECRET: SERVICE_JWT_SECRET,
      INSTANCE_ID: options.instanceId,
      NODE_ENV: 'development',
    });
    try {
      await child.next('listening', 60_000);
    } catch (error) {
      child.signal('SIGKILL');
      throw error;
    }
    return new BackplaneGateway(child, port, `http://127.0.0.1:${relayPort}/`);
  }

  get pid(): number {
    return this.child.process.pid!;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get hubUrl(): string {
    return `${this.baseUrl}/hubs/chat`;
  }

  /** Events this server published to the backplane, and events its subscriptions brought it. */
  async counts(): Promise<{ published: number; received: number }> {
    this.child.send({ cmd: 'counts' });
    const answer = await this.child.next('counts', 10_000);
    return { published: Number(answer.published), received: Number(answer.received) };
  }

  /** The server's log (warnings and errors only). */
  get output(): string[] {
    return this.child.output;
  }

  async dispose(): Promise<void> {
    await this.child.stop();
  }
}
