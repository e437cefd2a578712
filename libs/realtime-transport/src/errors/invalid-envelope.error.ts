/**
 * An event could not be turned into a valid envelope (it does not match the envelope schema, or its args do not
 * serialize). The event is not written to any transport.
 */
export class InvalidEnvelopeError extends Error {
  constructor(
    readonly eventType: string,
    readonly reason: string,
  ) {
    super(
      `Realtime event "${eventType}" is not a valid envelope: ${reason}. Fix the @RealtimeEvent mapping of this event.`,
    );
    this.name = 'InvalidEnvelopeError';
  }
}
