/**
 * The service would start insecurely: a secret is missing, too short or not shared, or a development setting is on
 * in production. Thrown before anything listens; the message names the variable and says what to set.
 */
export class UnsafeConfigError extends Error {
  constructor(
    /** The environment variable to fix. */
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnsafeConfigError';
  }
}
