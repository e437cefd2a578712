/**
 * The transaction of a group commit failed (disk full, I/O error, the file locked past the busy timeout, the
 * database closed): none of its messages was stored, none of their envelopes will be published. The REST API
 * answers 503 to each of their requests, and the client may post again.
 */
export class MessagesNotStoredError extends Error {
  constructor(
    /** Messages the failed transaction held. */
    readonly count: number,
    options: { cause: unknown },
  ) {
    super(
      `storing a batch of ${count} message${count === 1 ? '' : 's'} failed, none was stored: ${reasonOf(options.cause)}`,
      options,
    );
    this.name = 'MessagesNotStoredError';
  }
}

function reasonOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
