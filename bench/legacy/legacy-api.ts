import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { TsChild } from '../../test/support/child-process';
import { freePort } from '../../test/support/free-port';
import { SERVICE_JWT_SECRET } from '../../test/support/service-process';

/**
 * The legacy API (legacy-api.process.ts) in a process of its own, posting to `bridgeUrl`, or to each of several in
 * turn (round-robin, the load balancer of `legacy-backplane`).
 */
export class LegacyApi {
  private constructor(
    private readonly child: TsChild,
    readonly baseUrl: string,
    private readonly dir: string,
  ) {}

  static async start(bridgeUrl: string | readonly string[], bridgeSecret: string): Promise<LegacyApi> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'legacy-api-'));
    const child = new TsChild('bench/legacy/legacy-api.process.ts', {
      PORT: String(port),
      BRIDGE_URL: typeof bridgeUrl === 'string' ? bridgeUrl : bridgeUrl.join(','),
      BRIDGE_SECRET: bridgeSecret,
      JWT_SECRET: SERVICE_JWT_SECRET,
      DATABASE_PATH: join(dir, 'legacy.sqlite'),
    });
    await child.next('listening');
    return new LegacyApi(child, `http://127.0.0.1:${port}`, dir);
  }

  async dispose(): Promise<void> {
    const child = this.child.process;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      this.child.signal('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
