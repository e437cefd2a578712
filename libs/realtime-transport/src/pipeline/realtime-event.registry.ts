import { Injectable } from '@nestjs/common';
import type { RealtimeEventOptions } from '../decorators/realtime-event.decorator';
import { REALTIME_EVENT_METADATA } from '../realtime-transport.constants';

/** `@RealtimeEvent` options by event class, read once per class. */
@Injectable()
export class RealtimeEventRegistry {
  private readonly byClass = new Map<Function, RealtimeEventOptions | null>();

  optionsOf(event: object): RealtimeEventOptions | undefined {
    const type = event.constructor;
    let options = this.byClass.get(type);
    if (options === undefined) {
      options = (Reflect.getMetadata(REALTIME_EVENT_METADATA, type) as RealtimeEventOptions | undefined) ?? null;
      this.byClass.set(type, options);
    }
    return options ?? undefined;
  }
}
