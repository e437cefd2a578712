/**
 * The event cannot go through the outbox: it has no `@RealtimeEvent`, or it is volatile or coalesced (typing
 * indicators may be dropped and are never replayed, so storing them would only slow the relay down).
 */
export class NotDurableEventError extends Error {
  constructor(
    readonly eventType: string,
    readonly reason: string,
  ) {
    super(`Cannot publish "${eventType}" durably: ${reason}. Publish it with publish() or the EventBus instead.`);
    this.name = 'NotDurableEventError';
  }
}
