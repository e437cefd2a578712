import type { RealtimeTransport } from '../transports/realtime-transport.interface';
import { SettledOutboxOutcomes } from './settled-outbox-outcomes';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A relay stand-in recording what it is told, in order. */
function relay() {
  const calls: string[] = [];
  return {
    calls,
    acknowledged: (id: string) => void calls.push(`ack ${id}`),
    defer: (id: string, reason: string) => void calls.push(`defer ${id} ${reason}`),
    endTurn: () => void calls.push('endTurn'),
  };
}

/** A transport whose envelopes settle when the test says so. */
function bridge() {
  const pending = new Map<string, (complete: boolean) => void>();
  const transport = {
    name: 'http-bridge',
    tracking: false,
    trackSettlements() {
      this.tracking = true;
    },
    settlementOf(id: string) {
      if (!pending.has(id)) return undefined;
      return new Promise<boolean>((resolve) => pending.set(id, resolve));
    },
  };
  return { transport, pending };
}

describe('SettledOutboxOutcomes', () => {
  it('asks the transports to track settlements, and passes through what no part still holds', () => {
    const r = relay();
    const { transport } = bridge();
    const outcomes = new SettledOutboxOutcomes(r, [transport as unknown as RealtimeTransport], () => undefined);
    expect(transport.tracking).toBe(true);
    outcomes.acknowledged('a');
    outcomes.defer('b', 'shutdown');
    expect(r.calls).toEqual(['ack a', 'defer b shutdown']);
    expect(outcomes.idle).toBe(true);
  });

  it('removes the record only once every lane is done with it, in one removal call per loop turn', async () => {
    const r = relay();
    const { transport, pending } = bridge();
    const idle = jest.fn();
    const outcomes = new SettledOutboxOutcomes(r, [transport as unknown as RealtimeTransport], idle);
    pending.set('a', () => undefined);
    pending.set('b', () => undefined);
    outcomes.acknowledged('a');
    outcomes.acknowledged('b');
    expect(r.calls).toEqual([]);
    expect(outcomes.idle).toBe(false);
    pending.get('a')!(true);
    pending.get('b')!(true);
    await nextTurn();
    await nextTurn();
    expect(r.calls).toEqual(['ack a', 'ack b', 'endTurn']);
    expect(outcomes.idle).toBe(true);
    expect(idle).toHaveBeenCalledTimes(1);
  });

  it('leaves the record for the next start when a lane never will be done (shutdown)', async () => {
    const r = relay();
    const { transport, pending } = bridge();
    const outcomes = new SettledOutboxOutcomes(r, [transport as unknown as RealtimeTransport], () => undefined);
    pending.set('a', () => undefined);
    outcomes.acknowledged('a');
    pending.get('a')!(false);
    await nextTurn();
    await nextTurn();
    expect(r.calls).toEqual(['defer a shutdown', 'endTurn']);
  });

  it('tells the relay nothing once closed', async () => {
    const r = relay();
    const { transport, pending } = bridge();
    const outcomes = new SettledOutboxOutcomes(r, [transport as unknown as RealtimeTransport], () => undefined);
    pending.set('a', () => undefined);
    outcomes.acknowledged('a');
    outcomes.close();
    pending.get('a')!(true);
    await nextTurn();
    await nextTurn();
    expect(r.calls).toEqual([]);
    expect(outcomes.idle).toBe(true);
  });
});
