import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

const ROOT = join(__dirname, '..', '..');
export const SERVICE_JWT_SECRET = 'service-test-jwt-secret';

/** Settings for the service's process; `undefined` removes a variable the defaults would set. */
export type ServiceEnv = Record<string, string | undefined>;

/**
 * Variables that change what the service trusts or runs. The test runner's own values never leak into a service
 * (jest sets NODE_ENV=test, a developer's shell may hold JWT_SECRET): each test states what it runs with.
 */
const NOT_INHERITED = [
  'NODE_ENV',
  'JWT_SECRET',
  'REALTIME_BRIDGE_SECRET',
  'HEALTH_TOKEN',
  'REALTIME_BRIDGE_RECEIVER',
  'DEV_TOKENS',
  'ROOMS_OPEN',
  'REALTIME_SECRETS_FILE',
  'REALTIME_ROLE',
  'REALTIME_HTTP_BRIDGE_URL',
  // A developer's shell pointing at PostgreSQL would move every suite off its own SQLite file.
  'DATABASE_URL',
];

export interface FailedStart {
  code: number | null;
  output: string;
}

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
    private readonly env: ServiceEnv,
    /** Extra node flags (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
    private readonly nodeArgs: string[],
  ) {}

  /** Starts a service; `env` adds to (and wins over) the test defaults. Resolves once /health answers. */
  static async start(env: ServiceEnv = {}, envFileContent = '', nodeArgs: string[] = []): Promise<ServiceProcess> {
    const service = await ServiceProcess.prepare(env, envFileContent, nodeArgs);
    await service.start();
    return service;
  }

  /** Starts a service that must refuse to start: resolves with its exit code and output once it exited. */
  static async failToStart(env: ServiceEnv, envFileContent = ''): Promise<FailedStart> {
    const service = await ServiceProcess.prepare(env, envFileContent);
    try {
      const child = service.spawn();
      // 'close' comes once the output pipes are drained too, so the refusal message is in `output`.
      const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      const deadline = Date.now() + 30_000;
      while (child.exitCode === null && child.signalCode === null) {
        if (await service.answersHealth())
          throw new Error(`service started, expected a refusal:\n${service.output.join('')}`);
        if (Date.now() > deadline)
          throw new Error(`service neither started nor exited in 30 s:\n${service.output.join('')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return { code: await closed, output: service.output.join('') };
    } finally {
      await service.dispose();
    }
  }

  /** A service's directory, port and environment, not started yet (`start()` starts it; `token()` works already). */
  static async prepare(env: ServiceEnv = {}, envFileContent = '', nodeArgs: string[] = []): Promise<ServiceProcess> {
    const port = Number(env.PORT ?? (await freePort()));
    const service = new ServiceProcess(port, env, nodeArgs);
    writeFileSync(service.envFile, envFileContent);
    return service;
  }

  /** The running process's pid (benches read its CPU time from /proc). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get hubUrl(): string {
    return `${this.baseUrl}/hubs/chat`;
  }

  /** The environment the service runs with (also what `token()` runs the token script with). */
  get childEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of NOT_INHERITED) delete env[name];
    const merged: ServiceEnv = {
      ...env,
      SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      NODE_ENV: 'development',
      PORT: String(this.port),
      JWT_SECRET: SERVICE_JWT_SECRET,
      DATABASE_PATH: join(this.dir, 'chat.sqlite'),
      REALTIME_ENV_FILE: this.envFile,
      REALTIME_PROBE_INTERVAL_MS: '200',
      REALTIME_BREAKER_OPEN_MS: '300',
      REALTIME_CONSUMER_BLOCK_MS: '1000',
      ...this.env,
    };
    return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined));
  }

  async start(): Promise<void> {
    const child = this.spawn();
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited (${child.exitCode}):\n${this.output.join('')}`);
      if (await this.answersHealth()) return;
      if (Date.now() > deadline) throw new Error(`service did not answer /health in 30 s:\n${this.output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * `npm run token -- <user>` as a user of this installation runs it: scripts/token.ts from the repository root,
   * with the service's environment (same secrets file, same env file).
   */
  token(user: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['-r', '@swc-node/register', 'scripts/token.ts', user],
        { cwd: ROOT, env: this.childEnv, timeout: 30_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: stdout.trim(), stderr }),
      );
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** A crash: kill -9, resolved once the process is gone (start() runs it again with the same files). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
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

  private spawn(): ChildProcess {
    const child = spawn(process.execPath, [...this.nodeArgs, '-r', '@swc-node/register', 'src/main.ts'], {
      cwd: ROOT,
      env: this.childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => this.output.push(d.toString()));
    return child;
  }

  private async answersHealth(): Promise<boolean> {
    try {
      const response = await fetch(`${this.baseUrl}/health`);
      await response.body?.cancel();
      return response.status === 200 || response.status === 503;
    } catch {
      return false; // not listening yet
    }
  }
}
