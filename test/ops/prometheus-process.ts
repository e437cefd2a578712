import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';

/**
 * A real `prometheus` on a free port with a config of the test's own and its TSDB in a temp directory. The config
 * is written as JSON: YAML is a superset of it, so no YAML writer is needed.
 */
export class PrometheusProcess {
  readonly output: string[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'realtime-prometheus-'));
  private child?: ChildProcess;

  private constructor(readonly port: number) {}

  static async start(config: object): Promise<PrometheusProcess> {
    const prometheus = new PrometheusProcess(await freePort());
    await prometheus.start(config);
    return prometheus;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** An instant query; rejects on an HTTP or PromQL error, with Prometheus's message. */
  async query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const response = await fetch(`${this.baseUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; error?: string; data?: { result: any[] } };
    if (body.status !== 'success') throw new Error(`query ${promql} failed (${response.status}): ${body.error}`);
    return body.data!.result;
  }

  async dispose(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async start(config: object): Promise<void> {
    const configFile = join(this.dir, 'prometheus.yml');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    // cwd in the temp dir: Prometheus resolves its console template paths (unused here) against it.
    const child = spawn(
      process.env.PROMETHEUS_BIN ?? 'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--log.level=warn',
      ],
      { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => this.output.push(d.toString()));
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const failed = await Promise.race([spawnError, new Promise((resolve) => setTimeout(resolve, 100))]);
      // Not `instanceof Error`: under Jest the spawn error comes from another realm and fails that check.
      if (failed !== undefined)
        throw new Error(
          `cannot run prometheus (${(failed as Error).message}): run \`bash scripts/ensure-test-tools.sh\` as root, or set PROMETHEUS_BIN`,
        );
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${this.output.join('')}`);
      const ready = await fetch(`${this.baseUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`prometheus was not ready in 30 s:\n${this.output.join('')}`);
    }
  }
}
