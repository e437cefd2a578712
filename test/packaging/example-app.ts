import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docFiles, writeDocFiles } from './doc-files';
import { runCommand, userEnv } from './run-command';
import { ROOT } from './workspace-packs';

/** The app the getting-started page builds: every file of it is a block of the page. */
export const GETTING_STARTED = join(ROOT, 'docs', 'getting-started.md');
// The app's settings come from the test only, never from the shell the suite runs in.
const NOT_INHERITED = ['PORT', 'REDIS_URL', 'JWT_SECRET', 'REALTIME_TRANSPORT', 'NODE_ENV'];

/** Writes the getting-started app into `destination`, file by file from the page, as a reader would. */
export function writeGettingStartedApp(destination: string): void {
  writeDocFiles(docFiles(GETTING_STARTED), destination);
}

/**
 * A project that only installs the four packages (and, through npm, their required peers), so its type check sees
 * the declarations without any optional peer an application may leave out (prom-client, @nestjs/terminus...).
 */
export function writeBareConsumerProject(destination: string): void {
  mkdirSync(destination, { recursive: true });
  const manifest = { name: 'bare-consumer', version: '1.0.0', private: true };
  writeFileSync(join(destination, 'package.json'), JSON.stringify(manifest, null, 2));
}

/**
 * `npm install <tarballs> [others]`: the packages from the tarballs, everything else the project lists (and
 * `others`) from the registry, or npm's cache.
 */
export async function installExample(
  dir: string,
  tarballs: string[],
  timeoutMs: number,
  others: string[] = [],
): Promise<void> {
  await runCommand('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, ...others], {
    cwd: dir,
    timeoutMs,
  });
}

export async function buildExample(dir: string): Promise<void> {
  await runCommand('npm', ['run', 'build'], { cwd: dir, timeoutMs: 120_000 });
}

/**
 * Where npm resolved every installed copy of a `@realtime-streams/*` package, by lockfile path. A registry URL
 * here would mean the example ran someone else's package of the same name instead of the tarballs.
 */
export function installedRealtimePackages(dir: string): Record<string, string | undefined> {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string }>;
  };
  return Object.fromEntries(
    Object.entries(lock.packages)
      .filter(([path]) => /(^|\/)node_modules\/@realtime-streams\/[^/]+$/.test(path))
      .map(([path, entry]) => [path, entry.resolved]),
  );
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The built app (or one of its scripts: the page's client) in its own process. Run with `node` itself rather than `npm start`, so signals reach the
 * application and not npm's wrapper process.
 */
export class ExampleApp {
  readonly output: string[] = [];
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;

  constructor(dir: string, env: NodeJS.ProcessEnv, script = 'dist/main.js', args: string[] = []) {
    const inherited = userEnv();
    for (const name of NOT_INHERITED) delete inherited[name];
    this.child = spawn(process.execPath, [script, ...args], {
      cwd: dir,
      // NO_COLOR: plain log lines, readable in a failure message and matchable by level.
      env: { ...inherited, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    // 'close' waits for the pipes too, so `output` is complete once this resolves.
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once `baseUrl` answers HTTP at all; fails early, with the output, if the process exits first. */
  async waitUntilListening(baseUrl: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        const exit = await this.exited;
        throw new Error(`example exited during start-up (${JSON.stringify(exit)}):\n${this.output.join('')}`);
      }
      try {
        const response = await fetch(baseUrl);
        await response.body?.cancel();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`example did not listen on ${baseUrl} in ${timeoutMs} ms:\n${this.output.join('')}`);
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals, graceMs = 15_000): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    return this.waitForExit(graceMs);
  }

  /** The exit; SIGKILL after `timeoutMs`, so a process that does not end fails the test instead of hanging it. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
