import type { Envelope } from '@realtime-streams/contracts';
import type { ConnectionRegistry } from '../hub/connection-registry';
import { JSON_HUB_PROTOCOL } from '../hub/protocols/json-hub-protocol';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import { type DeliveryMetrics, NO_DELIVERY_METRICS } from './delivery.metrics';
import { DeliveryService } from './delivery.service';

/** A connection whose socket has `bufferedBytes` waiting; records what is sent and whether it was closed. */
class FakeConnection {
  readonly id = 'c1';
  readonly user = { id: 'u1' };
  handshakeDone = true;
  isOpen = true;
  codec = JSON_HUB_PROTOCOL;
  sent: Buffer[] = [];
  closedWith?: string;

  constructor(public bufferedBytes: number) {}

  send(frame: Buffer): void {
    this.sent.push(frame);
  }

  sendShared(frame: { payload: Buffer }): boolean {
    this.sent.push(frame.payload);
    return true;
  }

  close(error?: string): void {
    this.closedWith = error;
    this.isOpen = false;
  }
}

const counter = () => ({
  count: 0,
  inc(this: { count: number }, n = 1) {
    this.count += n;
  },
});

// The hard bound is the connection's own (hub-connection.spec.ts): it covers every kind of frame, not only deliveries.
describe('DeliveryService slow-client bounds', () => {
  const soft = 256 * 1024;
  const hard = 1024 * 1024;
  let connection: FakeConnection;
  let metrics: { slowClientDrops: ReturnType<typeof counter>; slowClientDisconnects: ReturnType<typeof counter> };
  let delivery: DeliveryService;
  let sequence = 0;
  const envelope = (volatile = false): Envelope => ({
    v: 1,
    id: `e${++sequence}`,
    type: 't',
    target: { kind: 'all' },
    method: 'M',
    args: [],
    ts: Date.now(),
    volatile,
  });

  beforeEach(() => {
    connection = new FakeConnection(0);
    const registry = { all: new Set([connection]) } as unknown as ConnectionRegistry;
    metrics = { slowClientDrops: counter(), slowClientDisconnects: counter() };
    const allMetrics: DeliveryMetrics = {
      ...NO_DELIVERY_METRICS,
      slowClientDropped: () => metrics.slowClientDrops.inc(),
    };
    const options = {
      slowClients: { softLimitBytes: soft, hardLimitBytes: hard },
      dedup: { ttlMs: 60_000, maxEntries: 1000 },
    } as ResolvedGatewayOptions;
    delivery = new DeliveryService(registry, allMetrics, options);
  });

  it('drops volatile envelopes past the soft bound, and still sends durable ones', () => {
    connection.bufferedBytes = soft + 1;
    expect(delivery.deliver(envelope(true), 'http-bridge', '[1]')).toBe(0);
    expect(metrics.slowClientDrops.count).toBe(1);
    expect(delivery.deliver(envelope(false), 'http-bridge', '[2]')).toBe(1);
    expect(connection.closedWith).toBeUndefined();
  });

  it('uses the args JSON it is given as the frame arguments, without serializing again', () => {
    const stringify = jest.spyOn(JSON, 'stringify');
    delivery.deliver(envelope(), 'http-bridge', '[{"given":true}]');
    const calls = stringify.mock.calls.length;
    stringify.mockRestore();
    expect(connection.sent[0].toString()).toBe('{"type":1,"target":"M","arguments":[{"given":true}]}\u001e');
    expect(calls).toBe(1); // the method name only
  });
});

describe('DeliveryService frames per protocol', () => {
  it('encodes an envelope once per protocol among its recipients, whatever the number of protocols', () => {
    const invocations: string[] = [];
    const codecOf = (name: string) =>
      ({
        name,
        binary: false,
        invocation: () => {
          invocations.push(name);
          return Buffer.from(name);
        },
      }) as unknown as typeof JSON_HUB_PROTOCOL;
    const [a, b, c] = [codecOf('a'), codecOf('b'), codecOf('c')];
    const connections = [a, b, c, a, c].map((codec) => Object.assign(new FakeConnection(0), { codec }));
    const frames = new Map<string, ReturnType<typeof counter>>();
    const metrics: DeliveryMetrics = {
      ...NO_DELIVERY_METRICS,
      framesWritten: (name, sockets) => {
        if (!frames.has(name)) frames.set(name, counter());
        frames.get(name)!.inc(sockets);
      },
    };
    const registry = { all: new Set(connections) } as unknown as ConnectionRegistry;
    const options = {
      slowClients: { softLimitBytes: 1 << 20, hardLimitBytes: 1 << 21 },
      dedup: { ttlMs: 60_000, maxEntries: 1000 },
    } as ResolvedGatewayOptions;
    const delivery = new DeliveryService(registry, metrics, options);
    const envelope: Envelope = {
      v: 1,
      id: 'e-protocols',
      type: 't',
      target: { kind: 'all' },
      method: 'M',
      args: [],
      ts: Date.now(),
      volatile: false,
    };
    expect(delivery.deliver(envelope, 'http-bridge', '[]')).toBe(5);
    expect(invocations).toEqual(['a', 'b', 'c']);
    expect(connections.map((connection) => connection.sent.map(String))).toEqual([['a'], ['b'], ['c'], ['a'], ['c']]);
    expect([...frames].map(([name, frameCount]) => [name, frameCount.count])).toEqual([
      ['a', 2],
      ['b', 1],
      ['c', 2],
    ]);
  });
});
