/** How one write of a batch went: its result, or the error that rolled back that write alone. */
export type WriteOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Queued<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/** Most writes one transaction takes: a long backlog commits in several, each still answered at its own commit. */
export const MAX_GROUP_COMMIT = 256;

/**
 * Group commit: the writes submitted during one turn of the event loop are committed together, by one call of
 * `write` (one transaction) right after that turn, and each caller's promise settles only once that transaction
 * committed, in submission order. A synchronous database (better-sqlite3) pays its commit, the WAL frames of every
 * page touched, once per batch instead of once per request; under load a turn holds many requests, idle it holds
 * one and nothing waits longer than the turn.
 *
 * `write` returns one outcome per item, in order (an item that failed alone was rolled back alone); when it throws,
 * nothing of the batch was stored and every caller gets `failed(error, size)`.
 */
export class GroupCommit<T, R> {
  private queue: Array<Queued<T, R>> = [];
  private scheduled?: NodeJS.Immediate;

  constructor(
    private readonly write: (items: readonly T[]) => ReadonlyArray<WriteOutcome<R>>,
    private readonly failed: (error: unknown, size: number) => Error,
    private readonly maxBatch = MAX_GROUP_COMMIT,
  ) {}

  /** Resolves with the item's result once its batch committed. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      // setImmediate runs after the poll phase: every request whose body arrived in this turn is in the batch.
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits what is queued now, synchronously (shutdown calls it before closing the database). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
      this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
      this.commit(batch);
    }
  }

  private commit(batch: ReadonlyArray<Queued<T, R>>): void {
    let outcomes: ReadonlyArray<WriteOutcome<R>>;
    try {
      outcomes = this.write(batch.map((queued) => queued.item));
    } catch (error) {
      const failure = this.failed(error, batch.length);
      for (const queued of batch) queued.reject(failure);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i];
      if (outcome.ok) batch[i].resolve(outcome.value);
      else batch[i].reject(outcome.error);
    }
  }
}
