import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventBus, type IEvent } from '@nestjs/cqrs';
import type { Subscription } from 'rxjs';
import { RealtimePublisher } from './realtime.publisher';

/**
 * Watches the EventBus stream, the way `@EventsHandler`s do. The bus's publisher is left alone, so the
 * application's own handlers keep receiving every event. The callback runs inside `EventBus.publish`, so it only
 * maps and queues; it never throws into the publisher and never waits for a transport.
 */
@Injectable()
export class EventBusObserver implements OnApplicationBootstrap, OnModuleDestroy {
  private subscription?: Subscription;

  constructor(
    private readonly eventBus: EventBus,
    private readonly publisher: RealtimePublisher,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription ??= this.eventBus.subscribe((event: IEvent) => this.publisher.publishQuietly(event));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
}
