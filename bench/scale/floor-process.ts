import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { forkBenchProcess, nextMessage, stopChild } from './bench-child';
import type { FloorCommand, FloorEvent } from './scale-protocol';

/** The floor server (floor-server.ts) in its own process, as the orchestrator drives it. */
export class FloorProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<FloorProcess> {
    const child = forkBenchProcess(join(__dirname, 'floor-server.ts'));
    try {
      const listening = await nextMessage<Extract<FloorEvent, { event: 'listening' }>>(
        child,
        'listening',
        'floor server',
        60_000,
      );
      return new FloorProcess(child, listening.port);
    } catch (error) {
      await stopChild(child);
      throw error;
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Hands the floor one message for a room: `payload` is the message's JSON, sent on as is. */
  deliver(room: string, payload: string): void {
    const command: FloorCommand = { cmd: 'deliver', room, payload };
    this.child.send(command);
  }

  dispose(): Promise<void> {
    return stopChild(this.child);
  }
}
