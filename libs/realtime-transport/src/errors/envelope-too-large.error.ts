/** An event's serialized args exceed the configured limit; the event is not written to any transport. */
export class EnvelopeTooLargeError extends Error {
  constructor(
    readonly eventType: string,
    readonly argsBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `Realtime event "${eventType}" has ${argsBytes} bytes of serialized args, over the limit of ${limitBytes} ` +
        `(REALTIME_MAX_ARGS_BYTES). Send a reference (an id the client fetches) instead of the payload.`,
    );
    this.name = 'EnvelopeTooLargeError';
  }
}
