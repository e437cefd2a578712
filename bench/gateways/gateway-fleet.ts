import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { forkBenchProcess, nextMessage, stopChild } from '../scale/bench-child';
import type { ClientReceipts, GatewayClient, WorkerCommand, WorkerEvent } from './gateways-protocol';

const WORKER = join(__dirname, 'gateway-client.worker.ts');

type Connected = Extract<WorkerEvent, { event: 'connected' }>;
type Count = Extract<WorkerEvent, { event: 'count' }>;
type Report = Extract<WorkerEvent, { event: 'report' }>;

export interface FleetReport {
  /** ms from accept to receipt, coordinated-omission corrected, measured messages only. */
  latencyMs: { p50: number; p95: number; p99: number; max: number; count: number };
  clients: ClientReceipts[];
  malformed: number;
  closed: number;
}

/** The clients of one measurement, spread over worker processes (gateway-client.worker.ts). */
export class GatewayFleet {
  private closing?: Promise<void>;

  private constructor(
    private readonly children: ChildProcess[],
    readonly connected: number,
    readonly failedUsers: ReadonlySet<string>,
    /** Distinct connect errors with their counts, as the workers saw them. */
    readonly errors: string[],
    /** The slowest worker's time to connect its clients. */
    readonly connectMs: number,
  ) {}

  /** Forks the workers and connects every client (client i on worker i mod workers); failures are counted. */
  static async connect(spec: {
    workers: number;
    clients: GatewayClient[];
    batch: number;
    expectedIntervalMs: number;
  }): Promise<GatewayFleet> {
    const children = Array.from({ length: spec.workers }, () => forkBenchProcess(WORKER));
    try {
      const answers = await Promise.all(
        children.map((child, index) => {
          const connected = nextMessage<Connected>(child, 'connected', `client worker ${index}`, 600_000);
          const command: WorkerCommand = {
            cmd: 'connect',
            clients: spec.clients.filter((_, i) => i % spec.workers === index),
            batch: spec.batch,
            expectedIntervalMs: spec.expectedIntervalMs,
          };
          child.send(command);
          return connected;
        }),
      );
      return new GatewayFleet(
        children,
        answers.reduce((sum, a) => sum + a.connected, 0),
        new Set(answers.flatMap((a) => a.failed)),
        answers.flatMap((a) => a.errors),
        Math.max(...answers.map((a) => a.ms)),
      );
    } catch (error) {
      await Promise.all(children.map((child) => stopChild(child)));
      throw error;
    }
  }

  /** ReceiveMessage records the clients have read so far, all workers together. */
  async delivered(): Promise<number> {
    const counts = await this.ask<Count>('count');
    return counts.reduce((sum, c) => sum + c.delivered, 0);
  }

  async report(): Promise<FleetReport> {
    const reports = await this.ask<Report>('report');
    const merged = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 120_000_000,
      numberOfSignificantValueDigits: 3,
    });
    for (const report of reports) merged.add(hdr.decodeFromCompressedBase64(report.histogram));
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      latencyMs: {
        p50: ms(merged.getValueAtPercentile(50)),
        p95: ms(merged.getValueAtPercentile(95)),
        p99: ms(merged.getValueAtPercentile(99)),
        max: ms(merged.maxValue),
        count: merged.totalCount,
      },
      clients: reports.flatMap((r) => r.clients),
      malformed: reports.reduce((sum, r) => sum + r.malformed, 0),
      closed: reports.reduce((sum, r) => sum + r.closed, 0),
    };
  }

  /** Idempotent: a Ctrl-C handler and a `finally` may both dispose the fleet. */
  dispose(): Promise<void> {
    this.closing ??= Promise.all(this.children.map((child) => stopChild(child))).then(() => undefined);
    return this.closing;
  }

  private ask<E extends WorkerEvent>(cmd: 'count' | 'report'): Promise<E[]> {
    return Promise.all(
      this.children.map((child, index) => {
        const answer = nextMessage<E>(child, cmd, `client worker ${index}`, 60_000);
        child.send({ cmd } satisfies WorkerCommand);
        return answer;
      }),
    );
  }
}
