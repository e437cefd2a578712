import type { OutboundEnvelope, RealtimeTarget } from '@realtime-streams/contracts';

/** Distinct targets a report names at most; past it, it says "all" (the gateway takes up to 1000). */
export const MAX_REPORTED_TARGETS = 1000;
/** Size of the targets' JSON past which a report says "all" instead (well below any gateway's body limit). */
const MAX_REPORT_CHARS = 64 * 1024;

/** What a report releases once its instance has it (a BridgeTicket: its envelopes are settled on that lane). */
export interface ReportHold {
  laneSettled(count: number): void;
  abandoned(): void;
}

/** One report on its way: the body to POST and what it covers. */
export interface GaveUpReportBody {
  readonly body: string;
  readonly envelopes: number;
  /** Targets named, or 'all'. */
  readonly targets: number | 'all';
}

interface Content<T> {
  /** By target key, so a room's thousand envelopes are one target. */
  targets: Map<string, RealtimeTarget>;
  chars: number;
  everyone: boolean;
  envelopes: number;
  held: Map<T, number>;
}

const empty = <T>(): Content<T> => ({ targets: new Map(), chars: 0, everyone: false, envelopes: 0, held: new Map() });

/**
 * What a lane gave up for its gateway instance and has not told it yet. The lane POSTs it (`take()`) before any
 * envelope queued after those it gave up, and the instance closes the connections of those targets with the
 * reconnectable "missed messages" close: clients re-fetch from what they last saw, which is before the hole. A
 * report is small whatever the outage: past `MAX_REPORTED_TARGETS` distinct targets (or 64 KiB of them) it names
 * every connection of the instance ("all").
 *
 * It also holds the tickets of those envelopes until the instance has the report (their outbox records stay until
 * then), at most `maxHeld` envelopes' worth: past it the oldest are released early (an api crash before the report
 * goes would then lose the telling, not the report itself).
 */
export class GaveUpReport<T extends ReportHold = ReportHold> {
  private current: Content<T> = empty();
  private sending?: Content<T>;
  private heldCount = 0;

  constructor(private readonly maxHeld: number) {}

  /** Something is given up and not reported, nor in a report on its way. */
  get pending(): boolean {
    return this.current.envelopes > 0;
  }

  /** Envelopes given up and not reported yet (on their way included). */
  get unreported(): number {
    return this.current.envelopes + (this.sending?.envelopes ?? 0);
  }

  /** The lane gave this envelope up for its instance. */
  add(outbound: OutboundEnvelope, hold: T): void {
    const content = this.current;
    content.envelopes++;
    content.held.set(hold, (content.held.get(hold) ?? 0) + 1);
    if (++this.heldCount > this.maxHeld) this.releaseOldest();
    addTarget(content, outbound.targetKey, outbound.envelope.target);
  }

  /** The report to POST now (an empty batch of envelopes and the targets); what is given up meanwhile waits. */
  take(): GaveUpReportBody {
    const content = this.current;
    this.sending = content;
    this.current = empty();
    const gaveUp = content.everyone ? [{ kind: 'all' }] : [...content.targets.values()];
    return {
      body: JSON.stringify({ envelopes: [], gaveUp }),
      envelopes: content.envelopes,
      targets: content.everyone ? 'all' : content.targets.size,
    };
  }

  /** The instance has the report (or refused it for good): its envelopes are settled for this lane. */
  delivered(): void {
    const content = this.sending;
    this.sending = undefined;
    if (content) this.release(content.held);
  }

  /** The report did not get through: it goes again, merged with what was given up meanwhile. */
  failed(): void {
    const content = this.sending;
    this.sending = undefined;
    if (!content) return;
    const current = this.current;
    this.current = content;
    content.envelopes += current.envelopes;
    for (const [hold, count] of current.held) content.held.set(hold, (content.held.get(hold) ?? 0) + count);
    if (current.everyone) addTarget(content, 'all', { kind: 'all' });
    for (const [key, target] of current.targets) addTarget(content, key, target);
  }

  /**
   * Shutdown: nothing more will be reported. The tickets held are never settled (their outbox records stay for the
   * next start); returns how many envelopes were given up and never reported.
   */
  abandon(): number {
    const left = this.unreported;
    for (const content of [this.sending, this.current]) for (const hold of content?.held.keys() ?? []) hold.abandoned();
    this.current = empty();
    this.sending = undefined;
    this.heldCount = 0;
    return left;
  }

  private release(held: Map<T, number>): void {
    for (const [hold, count] of held) {
      this.heldCount -= count;
      hold.laneSettled(count);
    }
  }

  /** Over `maxHeld`: the oldest hold of what is not on its way is released (the report still names its target). */
  private releaseOldest(): void {
    const held = this.current.held;
    const oldest = held.keys().next();
    if (oldest.done) return;
    const count = held.get(oldest.value)!;
    held.delete(oldest.value);
    this.heldCount -= count;
    oldest.value.laneSettled(count);
  }
}

/** Names the target in the report, or makes it say "all" once it names too many or too much. */
function addTarget(content: Content<unknown>, key: string, target: RealtimeTarget): void {
  if (content.everyone || content.targets.has(key)) return;
  const chars = JSON.stringify(target).length + 1;
  if (
    target.kind === 'all' ||
    content.targets.size >= MAX_REPORTED_TARGETS ||
    content.chars + chars > MAX_REPORT_CHARS
  ) {
    content.everyone = true;
    content.targets.clear();
    content.chars = 0;
    return;
  }
  content.targets.set(key, target);
  content.chars += chars;
}
