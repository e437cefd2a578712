import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { outbound } from '../testing/outbound.fixture';
import { NO_HTTP_BRIDGE_METRICS } from './http-bridge.metrics';
import { HttpBridgeTransport } from './http-bridge.transport';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('HTTP bridge: credentials in a bridge URL are never shown', () => {
  let transport: HttpBridgeTransport | undefined;

  afterEach(async () => {
    await transport?.close();
    transport = undefined;
  });

  it('in errors, health, the lane a health check lists and metric labels', async () => {
    const port = await closedPort();
    const url = `http://relay:hunter2@127.0.0.1:${port}/internal/realtime/events?access_token=hunter2`;
    const labels: string[] = [];
    transport = new HttpBridgeTransport(
      {
        urls: [url],
        healthUrls: [`http://relay:hunter2@127.0.0.1:${port}/internal/realtime/events/health?access_token=hunter2`],
        secret: 'bridge-secret',
        connectionsPerInstance: 1,
        timeoutMs: 500,
        maxBodyBytes: 1024 * 1024,
        probeIntervalMs: 60_000,
        probeTimeoutMs: 300,
        closeTimeoutMs: 100,
      },
      { lane: (instance) => (labels.push(instance), NO_HTTP_BRIDGE_METRICS.lane(instance)) },
    );
    const health = await transport.health().then(
      () => 'healthy',
      (error: Error) => error.message,
    );
    const publish = await transport.publish([outbound()]).then(
      () => 'published',
      (error: Error) => error.message,
    );
    const [lane] = transport.lanes;
    const shown = [health, publish, lane.url.href, lane.name, lane.lastError ?? '', ...labels];
    for (const text of shown) expect(text).not.toContain('hunter2');
    expect(health).toContain(`http://relay:***@127.0.0.1:${port}/internal/realtime/events?access_token=***`);
    expect(labels).toEqual([`http://relay:***@127.0.0.1:${port}/internal/realtime/events?access_token=***`]);
  });
});
