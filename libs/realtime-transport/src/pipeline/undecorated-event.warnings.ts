import { Logger } from '@nestjs/common';

/** How an event reached the publisher: the application's EventBus, or a direct `RealtimePublisher.publish`. */
export type PublishedVia = 'event-bus' | 'publisher';

/**
 * Says, once per class, that an event without `@RealtimeEvent` reached no client: a forgotten decorator otherwise
 * looks like a delivery bug. On the EventBus many events are not meant for clients, so `warnUndecoratedEvents:
 * false` silences that path; a direct `RealtimePublisher.publish` of one is always a mistake and always warned about.
 */
export class UndecoratedEventWarnings {
  private readonly logger = new Logger('RealtimePublisher');
  private readonly warned = new Set<unknown>();

  constructor(private readonly warnOnEventBus: boolean) {}

  report(event: object, via: PublishedVia): void {
    if (via === 'event-bus' && !this.warnOnEventBus) return;
    const type: unknown = event.constructor;
    if (this.warned.has(type)) return;
    this.warned.add(type);
    this.logger.warn(via === 'event-bus' ? onTheBus(nameOf(type)) : direct(nameOf(type)));
  }
}

function nameOf(type: unknown): string {
  if (type === Object || typeof type !== 'function') return 'A plain object (not an instance of an event class)';
  return type.name ? `Event class ${type.name}` : 'An event of an anonymous class';
}

function onTheBus(name: string): string {
  return (
    `${name} was published on the EventBus without @RealtimeEvent, so no client receives it. If clients should, ` +
    "add @RealtimeEvent({ method: '...', to: (e) => ... }) to the class. If not, this is said once per class; " +
    'warnUndecoratedEvents: false (REALTIME_WARN_UNDECORATED_EVENTS=false) silences it.'
  );
}

function direct(name: string): string {
  return (
    `${name} was passed to RealtimePublisher.publish() without @RealtimeEvent and was not sent. ` +
    "Add @RealtimeEvent({ method: '...', to: (e) => ... }) to the class."
  );
}
