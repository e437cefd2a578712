import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page, type Route } from 'playwright-core';
import { ChatApi } from '../support/chat-api';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { ChatPage, UI_TIMEOUT_MS } from './chat-page';

const OUTPUT = join(__dirname, '..', '..', 'test-output');
/** The page's own expiry of a typing state it heard nothing more about (TYPING_SHOWN_MS in demo.js). */
const PAGE_TYPING_EXPIRY_MS = 5000;

describe('demo page: stock SignalR browser client in headless Chromium, real Redis, the service as npm start runs it', () => {
  let redis: RedisServer;
  let service: ServiceProcess;
  let browser: Browser;
  let pages: ChatPage[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url, DEV_TOKENS: 'true' });
    // Debian's Chromium, never a download. Without the background-networking flags it keeps trying to reach Google
    // services, which on a closed network is a stream of refused connections.
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterEach(async () => {
    await Promise.all(pages.map((chat) => chat.close()));
    pages = [];
  });

  afterAll(async () => {
    await browser?.close();
    await service?.dispose();
    await redis?.dispose();
  });

  /** Opens a page and keeps it for the screenshots of a failure. */
  async function open(user: string, prepare?: (page: Page) => Promise<unknown>): Promise<ChatPage> {
    const chat = await ChatPage.open(browser, service.baseUrl, user, prepare);
    pages.push(chat);
    return chat;
  }

  /** Runs a test body; when it fails, screenshots of every page and the service's output go to test-output/. */
  async function withEvidence(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      mkdirSync(OUTPUT, { recursive: true });
      await Promise.all(
        pages.map((chat) => chat.screenshot(join(OUTPUT, `${name}-${chat.user}.png`)).catch(() => undefined)),
      );
      const problems = pages.flatMap((chat) => chat.problems).join('\n');
      writeFileSync(join(OUTPUT, `${name}-service.log`), `${problems}\n\n${service.output.join('')}`);
      throw error;
    }
  }

  it('shows typing and messages to the room, once, and nothing to another room', () =>
    withEvidence('demo-page-room', async () => {
      const [alice, bob, carol] = await Promise.all(
        [
          ['alice', 'r1'],
          ['bob', 'r1'],
          ['carol', 'r2'],
        ].map(async ([user, room]) => {
          const chat = await open(user);
          await chat.join(room);
          return chat;
        }),
      );

      // Typing, then a pause: the page sends "stopped typing" after 1 s idle. The bound stays under the page's own
      // expiry, so only that "stopped" can clear the line in time.
      await alice.type('hel');
      await bob.typing.filter({ hasText: 'alice is typing' }).waitFor({ timeout: UI_TIMEOUT_MS });
      await bob.page.locator('#typing:empty').waitFor({ state: 'attached', timeout: PAGE_TYPING_EXPIRY_MS - 1000 });

      // Typing, then Enter right after the last key: the message clears the line, and no "typing" may follow it.
      await alice.type('lo bob');
      await bob.typing.filter({ hasText: 'alice is typing' }).waitFor({ timeout: UI_TIMEOUT_MS });
      await alice.pressEnter();
      await alice.message('hello bob').waitFor({ timeout: UI_TIMEOUT_MS });
      await bob.message('hello bob').waitFor({ timeout: UI_TIMEOUT_MS });
      await bob.page.locator('#typing:empty').waitFor({ state: 'attached', timeout: PAGE_TYPING_EXPIRY_MS - 1000 });

      await bob.type('hi alice');
      await bob.pressEnter();
      await alice.message('hi alice').waitFor({ timeout: UI_TIMEOUT_MS });
      await bob.message('hi alice').waitFor({ timeout: UI_TIMEOUT_MS });

      // Carol's own message is the barrier for her: one stream, delivered in order, so anything of room r1 that
      // reached her by mistake would have arrived before it.
      await carol.type('anyone here?');
      await carol.pressEnter();
      await carol.message('anyone here?').waitFor({ timeout: UI_TIMEOUT_MS });

      expect(await alice.messages()).toEqual(['alice: hello bob', 'bob: hi alice']);
      expect(await bob.messages()).toEqual(['alice: hello bob', 'bob: hi alice']);
      expect(await carol.messages()).toEqual(['carol: anyone here?']);
      expect(await bob.page.locator('#messages li[data-user="alice"] .who').textContent()).toBe('alice');

      const bobSaw = await bob.log();
      const shown = bobSaw.indexOf('message:alice:hello bob');
      expect(bobSaw.slice(0, shown + 1)).toEqual([
        'typing:alice is typing…',
        'typing:',
        'typing:alice is typing…',
        'message:alice:hello bob',
      ]);
      expect(bobSaw.slice(shown + 1)).not.toContainEqual(expect.stringMatching(/^typing:.+/));
      expect(await carol.log()).toEqual(['message:carol:anyone here?']);

      for (const chat of [alice, bob]) {
        await chat.latency
          .filter({ hasText: /^last [\d.]+ ms · median [\d.]+ ms · max [\d.]+ ms \(\d+ messages?\)$/ })
          .waitFor({ timeout: UI_TIMEOUT_MS });
      }
      for (const chat of [alice, bob, carol]) expect(await chat.status()).toBe('connected');
      expect(pages.flatMap((chat) => chat.problems)).toEqual([]);
    }));

  it('works over MessagePack (WebSockets and long polling) next to JSON: messages and typing, once, in order', () =>
    withEvidence('demo-page-messagepack', async () => {
      const [alice, bob, carol] = await Promise.all(
        (
          [
            ['alice', { protocol: 'messagepack' }],
            ['bob', { protocol: 'messagepack', transport: 'LongPolling' }],
            ['carol', { protocol: 'json' }],
          ] as const
        ).map(async ([user, choice]) => {
          const chat = await open(user);
          await chat.join('mp', choice);
          return chat;
        }),
      );
      expect([await alice.transport(), await bob.transport(), await carol.transport()]).toEqual([
        'messagepack over WebSockets',
        'messagepack over LongPolling',
        'json over WebSockets',
      ]);
      await alice.type('packed');
      await bob.typing.filter({ hasText: 'alice is typing' }).waitFor({ timeout: UI_TIMEOUT_MS });
      await alice.pressEnter();
      for (let i = 1; i <= 5; i++) {
        await bob.type(`reply ${i}`);
        await bob.pressEnter();
      }
      const expected = ['alice: packed', ...[1, 2, 3, 4, 5].map((i) => `bob: reply ${i}`)];
      for (const chat of [alice, bob, carol]) {
        await chat.message('reply 5').waitFor({ timeout: UI_TIMEOUT_MS });
        expect(await chat.messages()).toEqual(expected);
        expect(await chat.status()).toBe('connected');
      }
      expect(pages.flatMap((chat) => chat.problems)).toEqual([]);
    }));

  it('joins with a development token when Join is clicked before the page has its settings', () =>
    withEvidence('demo-page-slow-settings', async () => {
      const dave = await open('dave', (page) => page.route('**/demo/config.json', later(500)));
      await dave.join('r3');
      expect(dave.problems).toEqual([]);
    }));

  it('never shows "typing" after a message, even when the typing request is slower than the message', () =>
    withEvidence('demo-page-slow-typing', async () => {
      const alice = await open('alice', (page) => page.route('**/rooms/*/typing', later(300)));
      const bob = await open('bob');
      await Promise.all([alice.join('r4'), bob.join('r4')]);

      const typingAnswered = alice.page.waitForResponse((response) => response.url().endsWith('/typing'));
      await alice.type('x');
      await alice.pressEnter();
      await bob.message('x').waitFor({ timeout: UI_TIMEOUT_MS });
      // Once the "typing" is accepted, a message posted after it reaches bob after it too (one stream, in order).
      await typingAnswered;
      await new ChatApi(service.baseUrl, 'alice').post('r4', 'barrier');
      await bob.message('barrier').waitFor({ timeout: UI_TIMEOUT_MS });

      const bobSaw = await bob.log();
      expect(bobSaw.slice(bobSaw.indexOf('message:alice:x') + 1)).not.toContainEqual(
        expect.stringMatching(/^typing:.+/),
      );
      expect(pages.flatMap((chat) => chat.problems)).toEqual([]);
    }));
});

/** A route handler that lets the request through after `ms`: a slow network for one kind of request. */
function later(ms: number): (route: Route) => Promise<void> {
  return async (route) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    await route.continue();
  };
}
