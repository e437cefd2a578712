import v8 from 'node:v8';
import vm from 'node:vm';
import { type GatewayApp, type RecordingLogger, tokenFor } from '../../support/gateway-app';
import type { TestClient } from '../../support/signalr-client';
import { stillServed } from '../support';

const MB = 1024 * 1024;

/**
 * A full collection, so heap readings compare what is live rather than when the collector last ran. Jest does not
 * start Node with --expose-gc; the flag can still be set at run time, and a fresh context then has `gc`. Where even
 * that fails, readings carry garbage and only the loose bound below keeps them meaningful.
 */
const collect: (() => void) | undefined = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();

export function heapUsedAfterGc(): number {
  collect?.();
  return process.memoryUsage().heapUsed;
}

/** Peak resident memory of the process so far (Linux reports it in KiB). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export interface MemoryBounds {
  /** What the gateway may hold for one hostile connection: its documented bounds (slow-client hard bound, POST). */
  perConnectionBytes: number;
  /**
   * Slack for everything else in this process: jest, the clients themselves, V8's own caches, and garbage when no
   * GC can be forced. Loose on purpose: the failures it is there for cost hundreds of MB.
   */
  slackBytes: number;
  /** How far the process's peak resident memory may rise during the suite (transient allocations included). */
  peakRiseBytes: number;
}

/**
 * The gateway is still well after a batch of hostile clients: it answers negotiate, logged no ERROR line, its
 * bystanders (stock clients in group 'watch') still get a bridge envelope, and its heap stayed within bounds.
 */
export class GatewayWatch {
  private readonly heapAtStart = heapUsedAfterGc();
  private readonly peakRssAtStart = peakRssBytes();
  private checks = 0;

  constructor(
    private readonly gw: GatewayApp,
    private readonly logs: RecordingLogger,
    private readonly bystanders: TestClient[],
    private readonly bounds: MemoryBounds,
  ) {}

  /** ERROR and FATAL lines so far, each as one string. */
  errorLines(): string[] {
    return this.logs.at('error', 'fatal').map((line) => [line.message, ...line.rest].join(' | '));
  }

  async check(heldConnections: number): Promise<void> {
    const negotiate = await fetch(`${this.gw.hubUrl}/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenFor(`watch-${++this.checks}`)}` },
    });
    expect(negotiate.status).toBe(200);
    expect(this.errorLines()).toEqual([]);
    for (const bystander of this.bystanders) await stillServed(bystander, this.gw.bridgeUrl);
    const growth = heapUsedAfterGc() - this.heapAtStart;
    const bound = this.bounds.slackBytes + heldConnections * this.bounds.perConnectionBytes;
    if (growth > bound) {
      throw new Error(
        `the heap grew by ${mb(growth)} MB with ${heldConnections} hostile connections open (bound ${mb(bound)} MB)`,
      );
    }
    const peakRise = peakRssBytes() - this.peakRssAtStart;
    if (peakRise > this.bounds.peakRiseBytes) {
      throw new Error(
        `the peak resident memory rose by ${mb(peakRise)} MB (bound ${mb(this.bounds.peakRiseBytes)} MB)`,
      );
    }
  }
}

const mb = (bytes: number) => (bytes / MB).toFixed(1);
