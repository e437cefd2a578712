import type { TransportName } from '../transports/realtime-transport.interface';
import type { BreakerState } from './circuit-breaker';
import type { DropReason } from './pending-buffer';

/** What the fallback chain reports; the Prometheus implementation lives in metrics/, tests pass fakes. */
export interface FallbackChainMetrics {
  observePublish(transport: TransportName, ok: boolean, envelopes: number, seconds: number): void;
  fallbackSwitch(from: TransportName | 'none', to: TransportName | 'none'): void;
  breakerState(transport: TransportName, state: BreakerState): void;
  bufferDepth(depth: number): void;
  dropped(reason: DropReason, count: number): void;
  replayed(transport: TransportName, count: number): void;
}

export const NO_FALLBACK_CHAIN_METRICS: FallbackChainMetrics = {
  observePublish: () => undefined,
  fallbackSwitch: () => undefined,
  breakerState: () => undefined,
  bufferDepth: () => undefined,
  dropped: () => undefined,
  replayed: () => undefined,
};
