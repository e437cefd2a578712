import { type Browser, chromium } from 'playwright-core';
import { ChatApi, type StoredMessage } from '../support/chat-api';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { eventually } from '../support/stream-reader';
import { ChatPage } from './chat-page';

const BRIDGE_SECRET = 'demo-page-deploy-test-bridge-secret-0123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('demo page across a gateway restart (headless Chromium, split api and gateway)', () => {
  let redis: RedisServer;
  let api: ServiceProcess;
  let gateway: ServiceProcess;
  let browser: Browser;
  const pages: ChatPage[] = [];

  afterAll(async () => {
    await Promise.all(pages.map((chat) => chat.close()));
    await browser?.close();
    await gateway?.dispose();
    await api?.dispose();
    await redis?.dispose();
  });

  it('shows every message once, in order, after the gateway restarted mid-conversation', async () => {
    redis = await RedisServer.start();
    const gatewayEnv = {
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'gateway',
      REALTIME_INSTANCE_ID: 'gw-page',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      REALTIME_CORS_ORIGINS: '*',
      REALTIME_SHUTDOWN_TIMEOUT_MS: '2000',
    };
    gateway = await ServiceProcess.start(gatewayEnv);
    api = await ServiceProcess.start({
      REDIS_URL: redis.url,
      REALTIME_ROLE: 'api',
      REALTIME_BRIDGE_SECRET: BRIDGE_SECRET,
      DEV_TOKENS: 'true',
      REALTIME_PUBLIC_HUB_URL: gateway.hubUrl,
    });
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
    for (const user of ['alice', 'bob']) {
      const chat = await ChatPage.open(browser, api.baseUrl, user);
      pages.push(chat);
      await chat.join('deploy');
    }

    const poster = new ChatApi(api.baseUrl, 'poster');
    const posts: Array<Promise<StoredMessage>> = [];
    const started = Date.now();
    let restarted: Promise<void> | undefined;
    for (let n = 0; n < 300; n++) {
      const due = started + n * 20;
      if (due > Date.now()) await sleep(due - Date.now());
      posts.push(poster.post('deploy', `#${n}`));
      if (n === 75) {
        restarted = (async () => {
          await gateway.stop();
          gateway = await ServiceProcess.start({ ...gatewayEnv, PORT: String(gateway.port) });
        })();
      }
    }
    await Promise.all(posts);
    await restarted;

    const stored = (await poster.list('deploy', undefined, 500)).map((m) => `${m.userId}: ${m.text}`);
    expect(stored).toHaveLength(300);
    for (const chat of pages) {
      await eventually(async () => expect((await chat.messages()).length).toBeGreaterThanOrEqual(300), 30_000);
      expect(await chat.messages()).toEqual(stored);
      expect(await chat.status()).toBe('connected');
    }
  });
});
