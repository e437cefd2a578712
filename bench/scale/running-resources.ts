/**
 * What the bench has running right now (redis-server, services, workers, the floor), so that Ctrl-C or a kill
 * still stops it: orphan redis-servers have happened before.
 */
const running = new Set<() => Promise<void>>();

/** Runs `body` with `resource`, disposing it afterwards whatever happens (and on `disposeRunning()`). */
export async function using<T extends { dispose(): Promise<void> }, R>(
  resource: T,
  body: (resource: T) => Promise<R>,
): Promise<R> {
  const dispose = () => resource.dispose();
  running.add(dispose);
  try {
    return await body(resource);
  } finally {
    running.delete(dispose);
    await dispose();
  }
}

/** Disposes everything still running (the disposals are idempotent: a `finally` may run them again). */
export async function disposeRunning(): Promise<void> {
  await Promise.allSettled([...running].map((dispose) => dispose()));
}
