/** What a health indicator reports: `@nestjs/terminus`'s result shape, built without depending on terminus. */
export type RealtimeHealthResult<Key extends string, Details extends object = Record<string, unknown>> = Record<
  Key,
  Details & { status: 'up' | 'down' }
>;

/**
 * Builds an indicator's result. Terminus (an optional peer) reads `status` of each returned result, so these
 * plug into `HealthCheckService.check()`, and an application without terminus can serve them as they are.
 */
export function healthCheck<const Key extends string>(key: Key) {
  const result = <Details extends object>(status: 'up' | 'down', details: Details) =>
    ({ [key]: { ...details, status } }) as RealtimeHealthResult<Key, Details>;
  return {
    up: <Details extends object = object>(details: Details = {} as Details) => result('up', details),
    down: <Details extends object = object>(details: Details = {} as Details) => result('down', details),
  };
}
