/** A durable publish (`prepare`, `publishDurably`) was asked of a module configured without an outbox. */
export class OutboxNotConfiguredError extends Error {
  constructor(readonly eventType: string) {
    super(
      `Cannot publish "${eventType}" durably: RealtimeTransportModule has no outbox. Pass ` +
        '`outbox: { store }` to forRoot/forRootAsync, or publish with publish() / the EventBus (not durable).',
    );
    this.name = 'OutboxNotConfiguredError';
  }
}
