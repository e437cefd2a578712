import type { Envelope } from '@realtime-streams/contracts';
import type { ConnectionRegistry } from '../hub/connection-registry';
import type { HubConnection } from '../hub/hub-connection';
import { FakeOwner, FakeSocket, openConnection } from '../hub/hub-connection.fakes';
import { JSON_HUB_PROTOCOL } from '../hub/protocols/json-hub-protocol';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import { type DeliveryMetrics, NO_DELIVERY_METRICS } from './delivery.metrics';
import { DeliveryService } from './delivery.service';

const counter = () => ({
  count: 0,
  inc(this: { count: number }, n = 1) {
    this.count += n;
  },
});

const registryOf = (connections: HubConnection[]) => ({ all: new Set(connections) }) as unknown as ConnectionRegistry;

// The hard bound is the connection's own (hub-connection.spec.ts): it covers every kind of frame, not only deliveries.
describe('DeliveryService slow-client bounds', () => {
  const soft = 256 * 1024;
  const hard = 1024 * 1024;
  let socket: FakeSocket;
  let owner: FakeOwner;
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
    socket = new FakeSocket();
    owner = new FakeOwner({ softLimitBytes: soft, hardLimitBytes: hard, replayBufferBytes: hard });
    const registry = registryOf([openConnection(owner, socket)]);
    const options = {
      slowClients: { softLimitBytes: soft, hardLimitBytes: hard },
      dedup: { ttlMs: 60_000, maxEntries: 1000 },
    } as ResolvedGatewayOptions;
    delivery = new DeliveryService(registry, NO_DELIVERY_METRICS, options);
  });

  it('drops volatile envelopes past the soft bound, and still sends durable ones', () => {
    socket.bufferedBytes = soft + 1;
    expect(delivery.deliver(envelope(true), 'http-bridge', '[1]')).toBe(0);
    expect(owner.skipped).toBe(1);
    expect(delivery.deliver(envelope(false), 'http-bridge', '[2]')).toBe(1);
    expect(owner.overflows).toEqual([]);
  });

  it('uses the args JSON it is given as the frame arguments, without serializing again', () => {
    const stringify = jest.spyOn(JSON, 'stringify');
    delivery.deliver(envelope(), 'http-bridge', '[{"given":true}]');
    const calls = stringify.mock.calls.length;
    stringify.mockRestore();
    expect(socket.sent[0].toString()).toBe('{"type":1,"target":"M","arguments":[{"given":true}]}\u001e');
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
    const owner = new FakeOwner({ softLimitBytes: 1 << 20, hardLimitBytes: 1 << 21, replayBufferBytes: 1 << 20 });
    const sockets = [a, b, c, a, c].map(() => new FakeSocket());
    const connections = [a, b, c, a, c].map((codec, i) =>
      Object.assign(openConnection(owner, sockets[i], `c${i}`), { codec }),
    );
    const frames = new Map<string, ReturnType<typeof counter>>();
    const metrics: DeliveryMetrics = {
      ...NO_DELIVERY_METRICS,
      framesWritten: (name, sockets) => {
        if (!frames.has(name)) frames.set(name, counter());
        frames.get(name)!.inc(sockets);
      },
    };
    const registry = registryOf(connections);
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
    expect(sockets.map((socket) => socket.sent.map(String))).toEqual([['a'], ['b'], ['c'], ['a'], ['c']]);
    expect([...frames].map(([name, frameCount]) => [name, frameCount.count])).toEqual([
      ['a', 2],
      ['b', 1],
      ['c', 2],
    ]);
  });
});
