/**
 * Defaults both sides must agree on: what the publisher accepts the gateway must not refuse, and both must find
 * the same streams.
 */
export const ENVELOPE_LIMIT_DEFAULTS = Object.freeze({ maxArgsBytes: 64 * 1024, maxArgsDepth: 32 });

export const STREAM_LAYOUT_DEFAULTS = Object.freeze({
  url: 'redis://127.0.0.1:6379',
  streamKeyPrefix: 'realtime',
  shards: 1,
});
