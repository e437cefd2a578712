import { type INestApplication, Logger } from '@nestjs/common';
import { CqrsModule, EventBus } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { toGroup } from '@realtime-streams/contracts';
import { register } from 'prom-client';
import { RealtimeEvent } from '../decorators/realtime-event.decorator';
import { RealtimeTransportModule } from '../realtime-transport.module';
import type { RealtimeTransportOptions } from '../realtime-transport-options.interface';
import { RealtimePublisher } from './realtime.publisher';

class OrderShipped {
  constructor(readonly orderId: string) {}
}

class InvoiceSent {
  constructor(readonly invoiceId: string) {}
}

@RealtimeEvent({ method: 'ReceiveMessage', to: (e: MessagePosted) => toGroup(`room:${e.roomId}`) })
class MessagePosted {
  constructor(readonly roomId: string) {}
}

describe('events without @RealtimeEvent are warned about once per class', () => {
  let app: INestApplication;
  let warnings: string[];

  const start = async (options: Partial<RealtimeTransportOptions> = {}) => {
    register.clear();
    const moduleRef = await Test.createTestingModule({
      // No gateway takes the in-process envelopes: shutdown gives up on them at once.
      imports: [
        CqrsModule.forRoot(),
        RealtimeTransportModule.forRoot({ inProcess: true, shutdownTimeoutMs: 0, ...options }),
      ],
    }).compile();
    app = await moduleRef.createNestApplication({ logger: false }).init();
    return { bus: app.get(EventBus), publisher: app.get(RealtimePublisher) };
  };

  beforeEach(() => {
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });

  afterEach(async () => {
    await app.close();
    jest.restoreAllMocks();
  });

  it('on the EventBus: once per class, naming it and what to add', async () => {
    const { bus } = await start();
    bus.publish(new OrderShipped('1'));
    bus.publish(new OrderShipped('2'));
    bus.publish(new InvoiceSent('3'));
    bus.publish(new MessagePosted('42'));
    bus.publish(new OrderShipped('4'));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^Event class OrderShipped was published on the EventBus without @RealtimeEvent, so no client receives it\. If clients should, add @RealtimeEvent\(\{ method: '\.\.\.', to: \(e\) => \.\.\. \}\) to the class\. If not, this is said once per class; warnUndecoratedEvents: false \(REALTIME_WARN_UNDECORATED_EVENTS=false\) silences it\.$/,
      ),
      expect.stringMatching(/^Event class InvoiceSent was published on the EventBus without @RealtimeEvent/),
    ]);
  });

  it('through RealtimePublisher.publish: once per class', async () => {
    const { publisher } = await start();
    expect(publisher.publish(new OrderShipped('1'))).toBeUndefined();
    publisher.publish(new OrderShipped('2'));
    publisher.publish({ orderId: '3' });
    expect(warnings).toEqual([
      'Event class OrderShipped was passed to RealtimePublisher.publish() without @RealtimeEvent and was not sent. ' +
        "Add @RealtimeEvent({ method: '...', to: (e) => ... }) to the class.",
      expect.stringMatching(/^A plain object \(not an instance of an event class\) was passed to RealtimePublisher/),
    ]);
  });

  it('warnUndecoratedEvents: false silences the EventBus, not a direct publish', async () => {
    const { bus, publisher } = await start({ warnUndecoratedEvents: false });
    bus.publish(new OrderShipped('1'));
    bus.publish(new InvoiceSent('2'));
    expect(warnings).toEqual([]);
    publisher.publish(new OrderShipped('3'));
    expect(warnings).toEqual([expect.stringMatching(/^Event class OrderShipped was passed to RealtimePublisher/)]);
  });
});
