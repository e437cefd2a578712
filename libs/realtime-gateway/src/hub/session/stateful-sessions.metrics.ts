import type { ResumeFailure } from './session-replay';

/** A session record sent to Redis (`behind`: only the mark that the record is behind), or not (`too_large`). */
export type SessionWriteKind = 'checkpoint' | 'detached' | 'behind' | 'too_large';

/** What stateful sessions report; the Prometheus implementation lives in metrics/. */
export interface StatefulSessionMetrics {
  /** A session could not be resumed, or (`expired`) its window passed without its client. */
  resumeFailed(reason: ResumeFailure | 'expired'): void;
  /** `bytes`: the size of the record written (checkpoint, detached). */
  sessionWritten(kind: SessionWriteKind, bytes?: number): void;
  /** Bytes held for a resume, over every session of this instance. */
  replayBuffered(bytes: number): void;
}
