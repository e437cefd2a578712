import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { EventBus, IEvent } from '@nestjs/cqrs';
import type { Subscription } from 'rxjs';
import { RealtimePublisher } from './realtime.publisher';

/**
 * Watches the EventBus stream, the way `@EventsHandler`s do, when the application has `CqrsModule`. The bus's
 * publisher is left alone, so the application's own handlers keep receiving every event. The callback runs inside
 * `EventBus.publish`, so it only maps and queues; it never throws into the publisher and never waits for a
 * transport. Without `@nestjs/cqrs` (an optional peer) nothing is watched: the application calls
 * `RealtimePublisher.publish()` itself.
 */
@Injectable()
export class EventBusObserver implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RealtimeEventBusObserver');
  private subscription?: Subscription;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly publisher: RealtimePublisher,
  ) {}

  onApplicationBootstrap(): void {
    const eventBus = this.findEventBus();
    if (!eventBus) {
      this.logger.log('No CqrsModule in the application: events are published with RealtimePublisher.publish()');
      return;
    }
    this.subscription ??= eventBus.subscribe((event: IEvent) => this.publisher.publishQuietly(event));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private findEventBus(): EventBus | undefined {
    let cqrs: typeof import('@nestjs/cqrs');
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, loaded only when installed
      cqrs = require('@nestjs/cqrs') as typeof import('@nestjs/cqrs');
    } catch {
      return undefined;
    }
    try {
      return this.moduleRef.get(cqrs.EventBus, { strict: false });
    } catch {
      return undefined;
    }
  }
}
