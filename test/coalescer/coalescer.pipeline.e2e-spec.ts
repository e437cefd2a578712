import { CqrsModule, EventBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { RealtimeEvent, RealtimeTransportModule, toGroup } from '@realtime-streams/transport';
import { FallbackChain, InProcessSinkRegistry, type OutboundEnvelope } from '@realtime-streams/transport/testing';
import { register } from 'prom-client';
import { eventually } from '../support/stream-reader';

@RealtimeEvent({
  method: 'UserTyping',
  type: 'chat.typing',
  to: (e: UserTyping) => toGroup(`room:${e.roomId}`),
  coalesce: { key: (e: UserTyping) => `${e.roomId}:${e.userId}` },
})
class UserTyping {
  constructor(
    readonly roomId: string,
    readonly userId: string,
    readonly isTyping: boolean,
  ) {}
}

@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: MessageCreated) => toGroup(`room:${e.roomId}`),
  supersedes: (e: MessageCreated) => `${e.roomId}:${e.userId}`,
})
class MessageCreated {
  constructor(
    readonly roomId: string,
    readonly userId: string,
    readonly text: string,
  ) {}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('typing coalescer in the real pipeline (EventBus -> coalescer -> chain -> in-process transport)', () => {
  let app: TestingModule;
  let received: Array<{ at: number; outbound: OutboundEnvelope }>;

  beforeEach(async () => {
    register.clear();
    received = [];
    app = await Test.createTestingModule({
      imports: [CqrsModule.forRoot(), RealtimeTransportModule.forRoot({ inProcess: true, coalesceWindowMs: 100 })],
    }).compile();
    app.get(InProcessSinkRegistry).register((batch) => {
      for (const outbound of batch) received.push({ at: Date.now(), outbound });
    });
    await app.init();
  });

  afterEach(() => app.close());

  const describeReceived = () =>
    received.map(({ outbound }) => {
      const [arg] = outbound.envelope.args as [UserTyping | MessageCreated];
      return 'isTyping' in arg ? `${arg.userId}:${arg.isTyping ? 'typing' : 'stopped'}` : `${arg.userId}:message`;
    });

  it('cuts a burst of keystrokes to its first and last state, as volatile envelopes', async () => {
    const bus = app.get(EventBus);
    // Within one window (the unit specs cover timing rules with fake timers).
    for (let i = 0; i < 8; i++) bus.publish(new UserTyping('1', 'alice', true));
    bus.publish(new UserTyping('1', 'alice', false));
    await eventually(() => expect(describeReceived()).toEqual(['alice:typing', 'alice:stopped']));
    await sleep(150);
    expect(describeReceived()).toEqual(['alice:typing', 'alice:stopped']);
    expect(received.every(({ outbound }) => outbound.envelope.volatile)).toBe(true);

    const metrics = await register.getMetricsAsJSON();
    const value = (name: string) => metrics.find((m) => m.name === name)?.values[0]?.value;
    expect(value('realtime_coalescer_in_total')).toBe(9);
    expect(value('realtime_coalescer_out_total')).toBe(2);
  });

  it('never delivers a stale "typing" after the message that superseded it', async () => {
    const bus = app.get(EventBus);
    bus.publish(new UserTyping('1', 'alice', true));
    await sleep(20);
    bus.publish(new UserTyping('1', 'alice', false));
    bus.publish(new UserTyping('1', 'alice', true));
    bus.publish(new MessageCreated('1', 'alice', 'hello'));
    await sleep(250);
    expect(describeReceived()).toEqual(['alice:typing', 'alice:message']);
  });

  it('keeps two users in one room apart and sends each final state at most one window late', async () => {
    const bus = app.get(EventBus);
    const started = Date.now();
    bus.publish(new UserTyping('1', 'alice', true));
    bus.publish(new UserTyping('1', 'bob', true));
    await sleep(30);
    bus.publish(new UserTyping('1', 'alice', false));
    bus.publish(new UserTyping('1', 'bob', false));
    await eventually(() => expect(received).toHaveLength(4));
    expect(describeReceived()).toEqual(['alice:typing', 'bob:typing', 'alice:stopped', 'bob:stopped']);
    // One window (100 ms) plus timer and event loop slack.
    expect(received[3].at - started).toBeLessThan(100 + 80);
  });

  it('flushes a pending final state on shutdown', async () => {
    const bus = app.get(EventBus);
    bus.publish(new UserTyping('1', 'alice', true));
    bus.publish(new UserTyping('1', 'alice', false));
    await app.get(FallbackChain).whenIdle();
    expect(describeReceived()).toEqual(['alice:typing']);
    await app.close();
    expect(describeReceived()).toEqual(['alice:typing', 'alice:stopped']);
  });
});
