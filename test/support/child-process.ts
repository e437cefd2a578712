import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface ChildMessage {
  event: string;
  [key: string]: unknown;
}

/** A TypeScript fixture run in its own Node process (through @swc-node/register), talked to over IPC. */
export class TsChild {
  readonly messages: ChildMessage[] = [];
  private readonly waiters: Array<{ event: string; resolve: (m: ChildMessage) => void }> = [];
  readonly output: string[] = [];
  readonly process: ChildProcess;

  constructor(script: string, env: NodeJS.ProcessEnv) {
    this.process = fork(join(ROOT, script), [], {
      cwd: ROOT,
      env: { ...process.env, ...env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
      execArgv: ['-r', '@swc-node/register'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.process.stdout!.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.process.stderr!.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.process.on('message', (message: ChildMessage) => {
      const index = this.waiters.findIndex((w) => w.event === message.event);
      if (index >= 0) this.waiters.splice(index, 1)[0].resolve(message);
      else this.messages.push(message);
    });
  }

  send(message: object): void {
    this.process.send(message);
  }

  /** The next message of that kind (one already received and not yet taken counts). */
  next(event: string, timeoutMs = 30_000): Promise<ChildMessage> {
    const index = this.messages.findIndex((m) => m.event === event);
    if (index >= 0) return Promise.resolve(this.messages.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${event}" from child in ${timeoutMs} ms; output:\n${this.output.join('')}`)),
        timeoutMs,
      );
      this.waiters.push({ event, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.send({ cmd: 'close' });
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
