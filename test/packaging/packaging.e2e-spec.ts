import { signHs256Jwt } from '@realtime-streams/gateway';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { freePort } from '../support/free-port';
import { RedisServer } from '../support/redis-server';
import { TestClient } from '../support/signalr-client';
import { CONSUMER_SETTINGS, type ConsumerSetting, typeCheckConsumer, writeConsumer } from './consumer-typecheck';
import { optionalPeerImports, undeclaredImports } from './declaration-imports';
import {
  buildExample,
  ExampleApp,
  installedRealtimePackages,
  installExample,
  writeBareConsumerProject,
  writeGettingStartedApp,
} from './example-app';
import { runCommand, userEnv } from './run-command';
import { PACKAGE_DIRS, type PackedPackage, packWorkspaces, readManifest, ROOT } from './workspace-packs';

/**
 * What a user of the packages gets: the tarballs `npm pack` makes (contents, declaration imports), and the
 * getting-started page's application (docs/getting-started.md, every file taken from the page) installed from them
 * outside the repository, where no hoisted node_modules hides a missing dependency, talking to stock SignalR clients
 * (the page's own among them) through a real Redis, and in process with one variable.
 */

// Installing the example's other dependencies may hit the registry on a cold npm cache.
const INSTALL_TIMEOUT_MS = 5 * 60_000;
const REQUIRED_FILES = ['package.json', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts'];
const NOT_FOR_PUBLISHING = [
  /\.spec\./,
  /(^|\/)(test|tests|__tests__)\//,
  /(^|\/)src\//,
  /\.(ts|mts|cts)$/, // TypeScript sources; .d.ts is allowed below
  /tsbuildinfo/,
];

/** `dist/x/y.js` or `.d.ts`, with `x/y` captured: built from `src/x/y.ts`. */
const BUILT_FROM_TS = /^dist\/(.+?)(\.js|\.d\.ts)$/;

const timings: Array<{ step: string; ms: number }> = [];

/** Runs one step and records how long it took: the suite is slow by nature and its report says where. */
async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings.push({ step, ms: Date.now() - started });
  }
}

describe('packaging', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'realtime-packaging-'));
  const packDir = join(workDir, 'packs');
  const packs = new Map<string, PackedPackage>();

  beforeAll(async () => {
    mkdirSync(packDir);
    // pretest built them already; tsc -b is incremental, so this is cheap and makes the suite runnable alone.
    await timed('npm run build:packages', () =>
      runCommand('npm', ['run', 'build:packages'], { cwd: ROOT, timeoutMs: 180_000 }),
    );
    for (const pack of await timed('npm pack (4 packages)', () => packWorkspaces(packDir))) packs.set(pack.dir, pack);
  }, 240_000);

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
    const report = timings.map(({ step, ms }) => `${step}: ${ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`}`);
    process.stderr.write(`packaging suite timings: ${report.join(', ')}\n`);
  });

  describe.each(PACKAGE_DIRS)('%s', (dir) => {
    const pack = () => packs.get(dir)!;

    it('packs package.json, README.md, CHANGELOG.md and the built entry point', () => {
      expect(REQUIRED_FILES.filter((file) => !pack().files.includes(file))).toEqual([]);
    });

    it('points main, types and every export at a packed file', () => {
      const { main, types, exports } = readManifest(dir);
      const targets = [main, types, ...exportTargets(exports)].filter((target) => target !== undefined);
      const missing = targets.map((target) => posix.normalize(target)).filter((path) => !pack().files.includes(path));
      expect(missing).toEqual([]);
    });

    it('packs no sources, specs, tests or build info', () => {
      const offenders = pack().files.filter(
        (file) => !file.endsWith('.d.ts') && NOT_FOR_PUBLISHING.some((pattern) => pattern.test(file)),
      );
      expect(offenders).toEqual([]);
    });

    it('packs no stale build output (a file whose source is gone)', () => {
      // tsc -b never deletes what a removed or renamed source once emitted, and `files` globs dist/ as a whole.
      const offenders = pack()
        .files.filter((file) => BUILT_FROM_TS.test(file))
        .filter((file) => !existsSync(join(ROOT, dir, file.replace(BUILT_FROM_TS, 'src/$1.ts'))));
      expect(offenders).toEqual([]);
    });

    it('packs no source maps, and no packed file points at one', () => {
      // A map needs the sources it maps to, which are not packed (see above); a dangling sourceMappingURL makes
      // bundlers and debuggers warn about a file that is not there.
      const maps = pack().files.filter((file) => file.endsWith('.map'));
      const pointing = pack()
        .files.filter((file) => file.endsWith('.js') || file.endsWith('.d.ts'))
        .filter((file) => readFileSync(join(ROOT, dir, file), 'utf8').includes('//# sourceMappingURL='));
      expect({ maps, pointing }).toEqual({ maps: [], pointing: [] });
    });

    it("packs a changelog whose latest entry is this version (not 'Unreleased')", () => {
      const changelog = readFileSync(join(ROOT, dir, 'CHANGELOG.md'), 'utf8');
      const latest = /^## (.+)$/m.exec(changelog)?.[1];
      expect(latest?.split(' ')[0]).toBe(readManifest(dir).version);
    });

    it('is published publicly (a scoped package is private by default)', () => {
      expect(readManifest(dir).publishConfig?.access).toBe('public');
    });

    it("packs nothing of another package's", () => {
      const others = PACKAGE_DIRS.filter((other) => other !== dir).map((other) => basename(other));
      const offenders = pack().files.filter(
        (file) =>
          file.startsWith('node_modules/') || file.includes('libs/') || others.some((name) => file.includes(name)),
      );
      expect(offenders).toEqual([]);
    });

    it('declares every package its .d.ts files import', () => {
      const offenders = undeclaredImports(pack(), join(ROOT, dir)).map(
        ({ file, specifier }) => `${file}: ${specifier}`,
      );
      expect(offenders).toEqual([]);
    });

    it('imports no optional peer in its .d.ts files (an application without it could not type-check them)', () => {
      const offenders = optionalPeerImports(pack(), join(ROOT, dir)).map(
        ({ file, specifier }) => `${file}: ${specifier}`,
      );
      expect(offenders).toEqual([]);
    });
  });

  describe('the getting-started app, written from the page and installed from the tarballs', () => {
    const appDir = join(workDir, 'getting-started');
    // Its own install of the four packages alone: the app installs optional peers a consumer may leave out.
    const consumerDir = join(workDir, 'bare-consumer');
    const jwtSecret = randomBytes(32).toString('base64');
    const clients: TestClient[] = [];
    let redis: RedisServer | undefined;
    let app: ExampleApp | undefined;
    let baseUrl = '';

    beforeAll(async () => {
      // Without every tarball, npm would fetch the missing ones by name from the registry: someone else's code.
      if (packs.size !== PACKAGE_DIRS.length) throw new Error('packing failed (see the packaging tests above)');
      redis = await RedisServer.start();
      writeGettingStartedApp(appDir);
      writeBareConsumerProject(consumerDir);
      const tarballs = [...packs.values()].map((pack) => pack.tarball);
      await timed('app and bare consumer: npm install', () =>
        Promise.all([
          installExample(appDir, tarballs, INSTALL_TIMEOUT_MS),
          installExample(consumerDir, tarballs, INSTALL_TIMEOUT_MS, ['typescript@5.9.3', '@types/node@20.19.43']),
        ]),
      );
      await timed('app: npm run build', () => buildExample(appDir));
      writeConsumer(join(consumerDir, 'check'));
      app = await startApp({ REDIS_URL: redis.url });
    }, INSTALL_TIMEOUT_MS + 180_000);

    afterAll(async () => {
      await Promise.allSettled(clients.map((client) => client.stop()));
      await app?.stop('SIGKILL');
      await redis?.dispose();
    });

    /** Starts the built app on a free port with `env` (and the test's JWT secret); resolves once it listens. */
    async function startApp(env: NodeJS.ProcessEnv): Promise<ExampleApp> {
      const port = await freePort();
      baseUrl = `http://127.0.0.1:${port}`;
      const started = new ExampleApp(appDir, { PORT: String(port), JWT_SECRET: jwtSecret, ...env });
      await timed('app: start until listening', () => started.waitUntilListening(baseUrl));
      return started;
    }

    it('runs the packages from the tarballs, one copy each', () => {
      for (const dir of [appDir, consumerDir]) {
        const installed = installedRealtimePackages(dir);
        expect(Object.keys(installed).sort()).toEqual(
          PACKAGE_DIRS.map((pkg) => `node_modules/${readManifest(pkg).name}`).sort(),
        );
        for (const resolved of Object.values(installed)) expect(resolved).toMatch(/^file:/);
      }
    });

    it.each(Object.keys(CONSUMER_SETTINGS) as ConsumerSetting[])(
      'type-checks every public entry point with a plain tsconfig, no skipLibCheck or resolveJsonModule (%s)',
      async (setting) => {
        // The bare consumer installs none of the optional peers prom-client, @nestjs/terminus,
        // @willsoto/nestjs-prometheus; the app itself builds with the page's plain tsconfig.
        await timed(`consumer: tsc (${setting})`, () =>
          typeCheckConsumer(join(consumerDir, 'check'), consumerDir, setting),
        );
      },
    );

    it('refuses to start without JWT_SECRET, naming it', async () => {
      const refused = new ExampleApp(appDir, { PORT: String(await freePort()), REDIS_URL: redis!.url });
      const exit = await refused.waitForExit(15_000);
      expect(exit.code).toBe(1);
      expect(refused.output.join('')).toContain('JWT_SECRET');
    });

    it('is healthy from its first answer, and serves its metrics', async () => {
      const health = await fetch(`${baseUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        status: 'ok',
        info: { realtime_transport: { active: 'redis-streams' }, redis: { status: 'up' } },
      });
      const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^realtime_/m);
    });

    it("delivers Notify once to the group's members and to no one else", async () => {
      const hubUrl = `${baseUrl}/hubs/notifications`;
      const alpha = await connect(hubUrl, 'alice', jwtSecret, clients);
      const beta = await connect(hubUrl, 'bob', jwtSecret, clients);
      await alpha.connection.invoke('JoinGroup', 'alpha');
      await beta.connection.invoke('JoinGroup', 'beta');

      const response = await timed('app: POST /notify until received', async () => {
        const posted = await postNotify(baseUrl, { group: 'alpha', text: 'hello' });
        await waitFor(
          () => alpha.of('Notify').length > 0,
          10_000,
          () => app!.output.join(''),
        );
        return posted;
      });
      // Long enough for a duplicate (a second consumer, a replay) or a misrouted copy to arrive.
      await new Promise((resolve) => setTimeout(resolve, 1000));

      expect(response.status).toBe(202);
      expect(alpha.of('Notify')).toEqual([[{ group: 'alpha', text: 'hello' }]]);
      expect(beta.of('Notify')).toEqual([]);
    });

    it("delivers to the page's own client, with a token from the page's token script", async () => {
      expect(await receivedByPageClient(appDir, baseUrl, jwtSecret)).toContain('[news] hello');
    });

    it.each([
      ['no text', { group: 'alpha' }],
      ['an empty group', { group: '', text: 'hello' }],
      ['a group over 128 characters', { group: 'g'.repeat(129), text: 'hello' }],
      ['a text over 4096 characters', { group: 'alpha', text: 't'.repeat(4097) }],
      ['a number for text', { group: 'alpha', text: 42 }],
      ['an array', ['alpha', 'hello']],
    ])('answers 400 with a message to a notification with %s', async (_case, body) => {
      const response = await postNotify(baseUrl, body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, message: expect.stringMatching(/must be a string/) });
    });

    it('stops cleanly on SIGTERM', async () => {
      await Promise.all(clients.map((client) => client.stop()));
      const exit = await timed('app: SIGTERM until exit', () => app!.stop('SIGTERM'));
      const output = app!.output.join('');
      // Nest's shutdown hooks re-raise the signal once the application closed, so SIGTERM (not a code) is the
      // clean end; SIGKILL would be the test's own, after a shutdown that hung.
      expect(['SIGTERM', 0]).toContain(exit.signal ?? exit.code);
      expect(output).not.toMatch(/\bERROR\b/);
    });

    it('runs without Redis with one variable, REALTIME_TRANSPORT=in-process, healthy from the start', async () => {
      // Nothing listens on port 1: the app must not even try.
      app = await startApp({ REALTIME_TRANSPORT: 'in-process', REDIS_URL: 'redis://127.0.0.1:1' });
      const health = await fetch(`${baseUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        info: { realtime_transport: { active: 'in-process' }, redis: { status: 'up', used: false } },
      });
      expect(await receivedByPageClient(appDir, baseUrl, jwtSecret)).toContain('[news] hello');
      const exit = await app.stop('SIGTERM');
      expect(['SIGTERM', 0]).toContain(exit.signal ?? exit.code);
      expect(app.output.join('')).not.toMatch(/\bERROR\b/);
    });
  });
});

/**
 * Runs the page's client (`npm run client -- news`, as node itself) with a token from the page's token script,
 * posts a notification to `news` once it joined, and returns what the client printed.
 */
async function receivedByPageClient(appDir: string, baseUrl: string, secret: string): Promise<string> {
  const token = (
    await runCommand(process.execPath, ['dist/token.js', 'carol'], {
      cwd: appDir,
      timeoutMs: 15_000,
      env: userEnv({ JWT_SECRET: secret }),
    })
  ).stdout.trim();
  const client = new ExampleApp(appDir, { HUB_URL: `${baseUrl}/hubs/notifications`, TOKEN: token }, 'dist/client.js', [
    'news',
  ]);
  await waitFor(
    () => client.output.join('').includes('joined news'),
    15_000,
    () => client.output.join(''),
  );
  expect((await postNotify(baseUrl, { group: 'news', text: 'hello' })).status).toBe(202);
  const exit = await client.waitForExit(15_000);
  expect(exit.code).toBe(0);
  return client.output.join('');
}

/** Every string target of an `exports` map, however nested by condition. */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (typeof exports !== 'object' || exports === null) return [];
  return Object.values(exports).flatMap(exportTargets);
}

async function connect(hubUrl: string, user: string, secret: string, clients: TestClient[]): Promise<TestClient> {
  // A fresh token at every (re)connect, as an application's accessTokenFactory would.
  const client = new TestClient(hubUrl, () => tokenFor(user, secret), { methods: ['Notify'] });
  clients.push(client);
  return client.start();
}

function tokenFor(user: string, secret: string): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256Jwt({ sub: user, iat: now, exp: now + 3600 }, secret);
}

async function postNotify(baseUrl: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

async function waitFor(condition: () => boolean, timeoutMs: number, context: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms; example output:\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
