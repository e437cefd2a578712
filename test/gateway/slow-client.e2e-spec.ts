import { GATEWAY_METRIC } from '@realtime-streams/gateway';
import { ConnectionRegistry } from '@realtime-streams/gateway/testing';
import { register } from 'prom-client';
import { type GatewayApp, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RawHubClient } from '../support/raw-hub-client';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { envelope, postBridge } from './support';

const RS = '\u001e';

describe('a client that stops reading', () => {
  let gw: GatewayApp;

  beforeAll(async () => {
    gw = await startGatewayApp({ slowClients: { softLimitBytes: 64 * 1024, hardLimitBytes: 512 * 1024 } });
  });

  afterAll(() => gw.close());

  it('does not delay the others, loses its volatile envelopes first, and is closed past the hard bound', async () => {
    const fast = await new TestClient(gw.hubUrl, tokenFor('fast')).start();
    await fast.connection.invoke('JoinGroup', 'flood');
    const slow = await RawHubClient.connect(gw.hubUrl, tokenFor('slow'));
    slow.send(JSON.stringify({ type: 1, target: 'JoinGroup', arguments: ['flood'], invocationId: '1' }) + RS);
    await slow.waitForFrames(2);
    slow.stopReading();
    const registry = gw.app.get(ConnectionRegistry);
    const slowConnection = [...registry.all].find((c) => c.user.id === 'slow')!;

    // 4 KiB envelopes, a volatile one after each durable one, in batches, until the kernel's socket buffers are
    // full and the gateway has to hold (then refuse) what the slow client does not read.
    const payload = 'x'.repeat(4096);
    const started = Date.now();
    let durable = 0;
    for (let batch = 0; batch < 40 && registry.all.has(slowConnection); batch++) {
      const envelopes = [];
      for (let i = 0; i < 50; i++) {
        envelopes.push(envelope({ kind: 'group', name: 'flood' }, [{ n: durable++, payload }]));
        envelopes.push(envelope({ kind: 'group', name: 'flood' }, [{ typing: true }], { volatile: true }));
      }
      await postBridge(gw.bridgeUrl, envelopes);
    }

    await eventually(() => expect(registry.all.has(slowConnection)).toBe(false), 10_000);
    // The reading client got every durable envelope, in order, within a loose bound.
    await eventually(
      () => expect(fast.of('ReceiveMessage').filter(([a]) => 'n' in (a as object))).toHaveLength(durable),
      10_000,
    );
    const seqs = fast.of('ReceiveMessage').flatMap(([a]) => ('n' in (a as object) ? [(a as { n: number }).n] : []));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(fast.connection.state).toBe('Connected');

    const metrics = await register.getMetricsAsJSON();
    const value = (name: string) => Number(metrics.find((m) => m.name === name)?.values[0]?.value ?? 0);
    expect(value(GATEWAY_METRIC.slowClientDrops)).toBeGreaterThan(0);
    expect(value(GATEWAY_METRIC.slowClientDisconnects)).toBe(1);
    await fast.stop();
    slow.close();
  });
});
