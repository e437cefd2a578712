import { TransportPublishError, type OutboundEnvelope } from '@realtime/transport';
import { HttpBridgeTransport } from '@realtime/transport/transports/http-bridge.transport';
import { BridgeReceiver } from '../support/bridge-receiver';

let seq = 0;
function envelope(): OutboundEnvelope {
  const e = {
    v: 1 as const,
    id: `id-${++seq}`,
    type: 't',
    target: { kind: 'all' as const },
    method: 'M',
    args: ['x'.repeat(100)],
    ts: Date.now(),
    volatile: false,
  };
  return { envelope: e, json: JSON.stringify(e), targetKey: 'all', argsJson: JSON.stringify(e.args) };
}

describe('http-bridge transport (real HTTP receivers)', () => {
  let receivers: BridgeReceiver[];
  let transport: HttpBridgeTransport;

  const make = (count: number, overrides: { timeoutMs?: number; maxBodyBytes?: number } = {}) => {
    transport = new HttpBridgeTransport({
      urls: receivers.slice(0, count).map((r) => r.url),
      healthUrls: receivers.slice(0, count).map((r) => r.url + '/health'),
      secret: 'secret',
      connectionsPerInstance: 4,
      timeoutMs: overrides.timeoutMs ?? 1000,
      maxBodyBytes: overrides.maxBodyBytes ?? 1024 * 1024,
    });
    return transport;
  };

  beforeEach(async () => {
    receivers = await Promise.all([1, 2, 3].map(() => new BridgeReceiver('secret').start()));
  });

  afterEach(async () => {
    await transport?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('POSTs each batch as one JSON array, with the bearer secret, to every instance', async () => {
    make(3);
    const batch = [envelope(), envelope(), envelope()];
    await transport.publish(batch);
    for (const receiver of receivers) {
      expect(receiver.ids()).toEqual(batch.map((o) => o.envelope.id));
      expect(receiver.requests).toBe(1);
    }
  });

  it('counts a batch delivered when one instance failed, and skips that instance until its probe passes', async () => {
    make(2);
    receivers[1].failWith = 500;
    await transport.publish([envelope()]);
    expect(receivers[0].envelopes).toHaveLength(1);
    expect(transport.lanes[1].up).toBe(false);

    await transport.publish([envelope()]);
    expect(receivers[1].requests).toBe(1);

    receivers[1].failWith = undefined;
    await transport.health();
    expect(transport.lanes[1].up).toBe(true);
    await transport.publish([envelope()]);
    expect(receivers[1].envelopes).toHaveLength(1);
  });

  it('does not let a hung instance hold back the others for more than one timeout', async () => {
    make(2, { timeoutMs: 200 });
    receivers[1].hang = true;
    const first = Date.now();
    await transport.publish([envelope()]);
    expect(Date.now() - first).toBeGreaterThanOrEqual(150);
    const second = Date.now();
    await transport.publish([envelope()]);
    expect(Date.now() - second).toBeLessThan(100);
    expect(receivers[0].envelopes).toHaveLength(2);
  });

  it('fails the batch with a TransportPublishError when no instance took it; a non-2xx answer is a failure', async () => {
    make(2);
    receivers[0].failWith = 503;
    receivers[1].failWith = 401;
    await expect(transport.publish([envelope()])).rejects.toThrow(TransportPublishError);
    await expect(transport.publish([envelope()])).rejects.toThrow(/answered (503|401)/);
  });

  it('refuses a wrong secret as a failure', async () => {
    transport = new HttpBridgeTransport({
      urls: [receivers[0].url],
      healthUrls: [receivers[0].url + '/health'],
      secret: 'wrong',
      connectionsPerInstance: 1,
      timeoutMs: 500,
      maxBodyBytes: 1024 * 1024,
    });
    await expect(transport.publish([envelope()])).rejects.toThrow(/answered 401/);
  });

  it('splits a batch bigger than the body limit into several POSTs, in order', async () => {
    make(1, { maxBodyBytes: 2000 });
    const batch = Array.from({ length: 20 }, () => envelope());
    await transport.publish(batch);
    expect(receivers[0].ids()).toEqual(batch.map((o) => o.envelope.id));
    expect(receivers[0].requests).toBeGreaterThan(1);
    for (const size of receivers[0].bodySizes) expect(size).toBeLessThanOrEqual(2000);
  });

  it('reports unhealthy only when every instance is down', async () => {
    make(2);
    receivers[0].healthy = false;
    await expect(transport.health()).resolves.toBeUndefined();
    receivers[1].healthy = false;
    await expect(transport.health()).rejects.toThrow(/http-bridge is unavailable/);
  });
});
