import type { Envelope, RealtimeTarget } from '@realtime-streams/contracts';
import type { TargetOrderMetrics } from './delivery.metrics';
import type { ResolvedGatewayOptions } from '../realtime-gateway-options.interface';

/** Why a target's order could not be kept (the `reason` label of `realtime_order_given_up_total`). */
export type OrderBreak = 'timeout' | 'late' | 'overflow';

/** What TargetOrder needs from delivery. */
export interface TargetOrderHooks<T extends { envelope: Envelope }> {
  /** Delivers now. `released`: it waited for an earlier one, so it goes out after entries read later than it. */
  deliver(item: T, released: boolean): void;
  /** Whether the target has connections on this gateway. */
  hasRecipients(target: RealtimeTarget): boolean;
  /** The target began holding envelopes (none were held for it before). */
  holding(target: RealtimeTarget): void;
  /** The target's order is broken: its connections are closed (reconnectable) so clients re-fetch. */
  giveUp(target: RealtimeTarget, reason: OrderBreak): void;
}

interface TargetState<T> {
  /** The number delivered next. */
  next: number;
  /** The lowest number this state covers: one below it was committed before this gateway knew the target. */
  base: number;
  /** Numbers that came before their turn (a Map per target: usually empty, never allocated then). */
  held?: Map<number, T>;
  timer?: NodeJS.Timeout;
  /**
   * The target was new with clients here: what came first may not be the lowest number still on its way (a
   * just-started gateway cannot know the last one), so everything waits `firstHoldMs`, then goes out from the lowest.
   */
  settling?: boolean;
}

/**
 * Delivers each target's numbered envelopes (`seq`, consecutive per target, from the application's database) in
 * number order, whichever api instance or transport brought them, and in whatever order: the order the database
 * committed them in. Two api instances publish after their own commits, so a later message can reach Redis (or a
 * gateway over the bridge) first; the stream's own numbering cannot see that, only the target's can.
 *
 * - The next number goes out at once, then whatever was held behind it.
 * - A later number waits, up to `holdMs`, for the missing one (when the target has connections here: otherwise it
 *   goes on at once, nobody having seen the hole); then the target's order is broken: its connections
 *   are closed with the reconnectable "missed messages" close, and clients re-fetch (what they last saw has no hole
 *   below it, since nothing after a missing number went out), and the target goes on after what was held.
 * - An earlier number after a later one went out (one committed before this gateway first saw the target, arriving
 *   past `firstHoldMs`): the order is broken the same way. A number delivered or given up before is dropped.
 *
 * Memory: one small state per target seen, `maxTargets` at most (the least recently used goes; forgotten, a target
 * starts again as new), and `maxHeld` envelopes held over every target; past it the target at hand is given up.
 */
export class TargetOrder<T extends { envelope: Envelope }> {
  /** In use order: a Map iterates in insertion order, and each use moves its target to the end. */
  private readonly targets = new Map<string, TargetState<T>>();
  private heldCount = 0;

  constructor(
    private readonly options: ResolvedGatewayOptions['ordering'],
    private readonly metrics: TargetOrderMetrics,
    private readonly hooks: TargetOrderHooks<T>,
  ) {}

  /** Envelopes waiting for an earlier one now. */
  get holding(): number {
    return this.heldCount;
  }

  /** Whether envelopes of `target` wait for an earlier one now. */
  holds(target: RealtimeTarget): boolean {
    return this.targets.get(targetKeyOf(target))?.held !== undefined;
  }

  /** Takes an envelope with a `seq`: delivered now, held for an earlier one, or dropped (see the class comment). */
  offer(item: T): void {
    const { envelope } = item;
    const seq = envelope.seq!;
    const key = targetKeyOf(envelope.target);
    let state = this.targets.get(key);
    if (state) {
      this.targets.delete(key);
      this.targets.set(key, state);
    } else {
      const unknownStart = seq > 1 && this.options.firstHoldMs > 0 && this.hooks.hasRecipients(envelope.target);
      state = { next: seq, base: seq, settling: unknownStart };
      this.targets.set(key, state);
      if (this.targets.size > this.options.maxTargets) this.forgetOldest();
      if (unknownStart) return this.hold(key, state, item, this.options.firstHoldMs);
    }
    if (state.settling) {
      // The start is not known yet: the lowest number so far is.
      if (seq < state.next) state.next = state.base = seq;
      return this.hold(key, state, item, this.options.firstHoldMs);
    }
    if (seq === state.next) {
      state.next++;
      this.hooks.deliver(item, false);
      return this.release(key, state);
    }
    if (seq > state.next) {
      // Nobody here to keep it for: holding would only cost memory on every gateway that reads the room (a member
      // joining later fetches what came before from the application).
      if (!state.held && !this.hooks.hasRecipients(envelope.target)) {
        state.next = seq + 1;
        return this.hooks.deliver(item, false);
      }
      return this.hold(key, state, item, this.options.holdMs);
    }
    if (seq < state.base) {
      // Committed before the first one this gateway delivered, and it came after: clients must re-fetch.
      state.base = seq;
      this.breakOrder(envelope.target, 'late');
    }
    // Otherwise delivered already (a copy past the dedup window) or given up (its target's clients were told).
  }

  /**
   * A numbered envelope of a target nobody here receives went by without being read (see StreamReader): the target's
   * next number moves past it as if it had been delivered to nobody, so a member joining later gets the next one at
   * once instead of waiting `firstHoldMs` for a start this gateway would not know.
   */
  passedBy(target: RealtimeTarget, seq: number): void {
    const key = targetKeyOf(target);
    const state = this.targets.get(key);
    if (!state) {
      this.targets.set(key, { next: seq + 1, base: seq, settling: false });
      if (this.targets.size > this.options.maxTargets) this.forgetOldest();
      return;
    }
    this.targets.delete(key);
    this.targets.set(key, state);
    // Something is held: a recipient was here a moment ago, and the hold's own timer decides.
    if (state.held || state.settling) return;
    if (seq >= state.next) state.next = seq + 1;
  }

  /**
   * The publisher gave up envelopes of these targets (a bridge lane's report) and their clients were told: the
   * targets start again as new, so the hole does not close them a second time when the hold runs out, and what they
   * held (behind the hole) reaches the clients through their re-fetch.
   */
  forget(targets: readonly RealtimeTarget[]): void {
    if (targets.some((target) => target.kind === 'all')) {
      for (const state of this.targets.values()) this.discardHeld(state);
      this.targets.clear();
      return;
    }
    for (const target of targets) {
      const key = targetKeyOf(target);
      const state = this.targets.get(key);
      if (!state) continue;
      this.discardHeld(state);
      this.targets.delete(key);
    }
  }

  /** Stops the hold timers (shutdown). */
  stop(): void {
    for (const state of this.targets.values()) clearTimeout(state.timer);
  }

  private hold(key: string, state: TargetState<T>, item: T, holdMs: number): void {
    const seq = item.envelope.seq!;
    if (state.held?.has(seq)) return;
    if (this.heldCount >= this.options.maxHeld) {
      // Memory first: this target's order is given up rather than holding without bound.
      this.discardHeld(state);
      state.settling = false;
      state.next = Math.max(state.next, seq + 1);
      return this.breakOrder(item.envelope.target, 'overflow');
    }
    if (!state.held) {
      state.held = new Map();
      this.hooks.holding(item.envelope.target);
    }
    state.held.set(seq, item);
    this.heldCount++;
    this.metrics.heldForOrder();
    this.metrics.holdingForOrder(this.heldCount);
    state.timer ??= this.timerFor(key, holdMs);
  }

  /** Delivers what was held behind the number that just went out, as long as it follows on. */
  private release(key: string, state: TargetState<T>): void {
    const held = state.held;
    if (!held) return;
    let item: T | undefined;
    while ((item = held.get(state.next)) !== undefined) {
      held.delete(state.next);
      this.heldCount--;
      state.next++;
      this.hooks.deliver(item, true);
    }
    this.metrics.holdingForOrder(this.heldCount);
    clearTimeout(state.timer);
    state.timer = undefined;
    if (held.size === 0) state.held = undefined;
    // A new hole behind what is still held gets a full hold of its own.
    else state.timer = this.timerFor(key, this.options.holdMs);
  }

  private timerFor(key: string, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.holdEnded(key), ms);
    timer.unref();
    return timer;
  }

  /** A hold ran out: a new target starts from its lowest number; otherwise the missing ones are given up. */
  private holdEnded(key: string): void {
    const state = this.targets.get(key);
    if (!state) return;
    state.timer = undefined;
    if (state.settling) {
      state.settling = false;
      const first = state.held?.get(state.next);
      if (first) {
        state.held!.delete(state.next);
        this.heldCount--;
        state.next++;
        this.hooks.deliver(first, true);
      }
      return this.release(key, state);
    }
    const held = state.held;
    if (!held) return;
    const target = held.values().next().value!.envelope.target;
    state.next = Math.max(...held.keys()) + 1;
    // Its clients are closed now: what was held reaches them through their re-fetch.
    this.discardHeld(state);
    this.breakOrder(target, 'timeout');
  }

  private discardHeld(state: TargetState<T>): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    this.heldCount -= state.held?.size ?? 0;
    state.held = undefined;
    this.metrics.holdingForOrder(this.heldCount);
  }

  private breakOrder(target: RealtimeTarget, reason: OrderBreak): void {
    this.metrics.orderBroken(reason);
    this.hooks.giveUp(target, reason);
  }

  /** The least recently used target goes; what it held ends as if its hold ran out. */
  private forgetOldest(): void {
    const [key, state] = this.targets.entries().next().value!;
    if (state.held) this.holdEnded(key);
    this.discardHeld(state);
    this.targets.delete(key);
  }
}

/** One key per target: a group and a user of the same name are different targets. */
function targetKeyOf(target: RealtimeTarget): string {
  if (target.kind === 'group') return `g:${target.name}`;
  if (target.kind === 'user') return `u:${target.id}`;
  return 'all';
}
