/** A configuration value is out of range or unparsable. Thrown at start-up (or on reload) so a bad value never runs. */
export class InvalidRealtimeConfigError extends Error {
  constructor(
    /** The env variable or option name that holds the bad value. */
    readonly setting: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`Invalid realtime configuration: ${setting} must be ${expected}, got ${JSON.stringify(value)}.`);
    this.name = 'InvalidRealtimeConfigError';
  }
}
