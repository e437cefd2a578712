import { EventBus } from '@nestjs/cqrs';
import { RealtimeEvent, toGroup } from '@realtime-streams/transport';
import { streamKey } from '@realtime-streams/contracts';
import Redis from 'ioredis';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';

@RealtimeEvent({ method: 'ReceiveMessage', to: (e: Numbered) => toGroup(`room:${e.room}`) })
class Numbered {
  constructor(
    readonly room: string,
    readonly seq: number,
  ) {}
}

const PASSWORD = 'a-password-only-this-test-knows';

/**
 * Redis behind a password, reached with settings a URL in the environment would not carry: the publisher gets
 * ioredis options, the gateway gets the application's own client. The default URL points at another Redis (the
 * machine's, without this password), so a module that fell back to it would not deliver here.
 */
describe('Redis given as ioredis options or an application client (password-protected redis-server)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let gw: GatewayApp | undefined;
  let client: TestClient | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const setup = redis.client();
    await setup.config('SET', 'requirepass', PASSWORD);
    setup.disconnect();
    admin = new Redis({ host: '127.0.0.1', port: redis.port, password: PASSWORD, maxRetriesPerRequest: 1 });
  });

  afterEach(async () => {
    await client?.stop().catch(() => undefined);
    await gw?.close();
    client = gw = undefined;
  });

  afterAll(async () => {
    admin.disconnect();
    await redis.dispose();
  });

  it('publishes with options and consumes with a duplicate of the client: every event once, in order', async () => {
    const appClient = new Redis({ host: '127.0.0.1', port: redis.port, password: PASSWORD });
    gw = await startGatewayApp(
      { instanceId: 'opts', redis: { client: appClient, blockMs: 500 } },
      { redis: { options: { host: '127.0.0.1', port: redis.port, password: PASSWORD } } },
    );
    client = await new TestClient(gw.hubUrl, tokenFor('alice')).start();
    await client.connection.invoke('JoinGroup', 'room:1');
    const bus = gw.app.get(EventBus);
    for (let seq = 0; seq < 100; seq++) bus.publish(new Numbered('1', seq));

    await eventually(() => expect(client!.of('ReceiveMessage')).toHaveLength(100));
    const seqs = client.of('ReceiveMessage').map(([m]) => (m as Numbered).seq);
    expect(seqs).toEqual([...Array(100).keys()]);
    // The entries are in this password-protected server, not in the one the default URL names.
    expect(await admin.xlen(streamKey('realtime', 0))).toBe(100);

    await gw.close();
    gw = undefined;
    // The application's client is its own: the modules closed their duplicates and left it connected.
    expect(appClient.status).toBe('ready');
    expect(await appClient.ping()).toBe('PONG');
    appClient.disconnect();
  });

  it('refuses a client that is not an ioredis client, naming the option', async () => {
    await expect(startGatewayApp({ redis: { client: {} as unknown as Redis } }, undefined)).rejects.toThrow(
      /redis.client must be an ioredis client/,
    );
  });
});
