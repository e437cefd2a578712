import { InvalidRealtimeConfigError } from './invalid-realtime-config.error';

/**
 * An option the module does not know: a typo (`redis.shard`), a setting put at the wrong level, or one from another
 * version. Refused rather than dropped without a word, which would leave the default in force unnoticed.
 */
export class UnknownRealtimeOptionError extends InvalidRealtimeConfigError {
  constructor(
    /** The unknown key's full option path, e.g. `redis.shard`. */
    readonly option: string,
    /** The option meant, when one is close (`redis.shards`). */
    readonly suggestion: string | undefined,
    /** The options at that level, for when nothing is close. */
    valid: readonly string[],
  ) {
    super(option, undefined, 'a known option');
    const hint = suggestion
      ? `Did you mean ${suggestion}?`
      : `The options there are: ${valid.length > 0 ? valid.join(', ') : '(none)'}.`;
    this.message =
      `Invalid realtime configuration: ${option} is not an option. ${hint} ` +
      'Fix its name or remove it (unknown options are refused, not ignored).';
    this.name = 'UnknownRealtimeOptionError';
  }
}
