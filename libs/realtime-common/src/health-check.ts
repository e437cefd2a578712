/** What a health indicator reports: `@nestjs/terminus`'s result shape, built without depending on terminus. */
export type RealtimeHealthResult<Key extends string> = Record<Key, { status: 'up' | 'down' } & Record<string, unknown>>;

/**
 * Builds an indicator's result. Terminus (an optional peer) reads `status` of each returned result, so these
 * plug into `HealthCheckService.check()`, and an application without terminus can serve them as they are.
 */
export function healthCheck<const Key extends string>(key: Key) {
  const result = (status: 'up' | 'down', details: object) =>
    ({ [key]: { ...details, status } }) as RealtimeHealthResult<Key>;
  return {
    up: (details: object = {}) => result('up', details),
    down: (details: object = {}) => result('down', details),
  };
}
