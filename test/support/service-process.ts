import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

const ROOT = join(__dirname, '..', '..');
export const SERVICE_JWT_SECRET = 'service-test-jwt-secret';

/**
 * The reference service (src/main.ts) in a process of its own, run from source through @swc-node/register, with
 * its own port, database file and env file. Tests drive it over HTTP and send it real signals.
 */
export class ServiceProcess {
  readonly output: string[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'realtime-service-'));
  readonly envFile = join(this.dir, '.env');
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
    /** Extra node flags (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
    private readonly nodeArgs: string[],
  ) {}

  /** Starts a service; `env` adds to (and wins over) the test defaults. Resolves once /health answers. */
  static async start(env: Record<string, string> = {}, envFileContent = '', nodeArgs: string[] = []): Promise<ServiceProcess> {
    const port = Number(env.PORT ?? (await freePort()));
    const service = new ServiceProcess(port, env, nodeArgs);
    writeFileSync(service.envFile, envFileContent);
    await service.start();
    return service;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get hubUrl(): string {
    return `${this.baseUrl}/hubs/chat`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [...this.nodeArgs, '-r', '@swc-node/register', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        PORT: String(this.port),
        JWT_SECRET: SERVICE_JWT_SECRET,
        DATABASE_PATH: join(this.dir, 'chat.sqlite'),
        REALTIME_ENV_FILE: this.envFile,
        REALTIME_PROBE_INTERVAL_MS: '200',
        REALTIME_BREAKER_OPEN_MS: '300',
        REALTIME_CONSUMER_BLOCK_MS: '1000',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => this.output.push(d.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited (${child.exitCode}):\n${this.output.join('')}`);
      try {
        const response = await fetch(`${this.baseUrl}/health`);
        if (response.status === 200 || response.status === 503) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`service did not answer /health in 30 s:\n${this.output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Graceful stop (SIGTERM), killed after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async health(): Promise<{ status: number; body: Record<string, any> }> {
    const response = await fetch(`${this.baseUrl}/health`);
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.baseUrl}/metrics`)).text();
  }
}
