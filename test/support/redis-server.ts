import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './free-port';

/**
 * A `redis-server` of the test's own, on a free port, keeping nothing on disk. Fault tests stop, kill -9, pause and
 * restart it on the same port; a restarted server is empty, like a production Redis without persistence.
 */
export class RedisServer {
  private process?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'realtime-redis-'));

  /** `extraArgs`: more `redis-server` arguments (the cluster helper's `--cluster-enabled yes`...). */
  constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  static async start(): Promise<RedisServer> {
    // Another process can still bind the port between our check and redis-server's: try another one.
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(await freePort());
      try {
        await server.start();
        return server;
      } catch (error) {
        await server.dispose();
        if (attempt >= 3 || !String(error).includes('Address already in use')) throw error;
      }
    }
  }

  /** The server's own directory (its cluster config lives there across restarts). */
  get directory(): string {
    return this.dir;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** Starts (or restarts) the server on its port; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.process) throw new Error(`redis-server on ${this.port} is already running`);
    const child = spawn(
      process.env.REDIS_SERVER_BIN ?? 'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await this.waitUntilReady(child, output);
  }

  /** Clean shutdown (SIGTERM). */
  async stop(): Promise<void> {
    await this.signalAndWait('SIGTERM');
  }

  /** Crash (kill -9): connections drop without a goodbye and the data is gone. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing answers. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** A client for assertions (caller quits it). */
  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: 1, lazyConnect: false });
  }

  /** Stops the server and removes its directory. */
  async dispose(): Promise<void> {
    this.resume();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child) return;
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.process = undefined;
  }

  private async waitUntilReady(child: ChildProcess, output: string[]): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`redis-server exited during start-up: ${output.join('')}`);
      }
      if (await answersPing(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`redis-server on ${this.port} did not start in 10 s: ${output.join('')}`);
  }
}

/**
 * One raw PING over TCP: no client library, so nothing (timers, reconnects) outlives the probe. A server with a
 * password answers NOAUTH: it is up all the same.
 */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}
