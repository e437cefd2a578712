/** IPC of the many-gateway bench: the orchestrator and its client workers (gateway-client.worker.ts). */

/** One client: its own user, in one room, connected to one gateway (`url`, ws://.../hubs/chat). */
export interface GatewayClient {
  user: string;
  room: string;
  token: string;
  url: string;
}

/** What one client received: the message ids of its ReceiveMessage records, in arrival order. */
export interface ClientReceipts {
  user: string;
  room: string;
  ids: string[];
}

export type WorkerCommand =
  | {
      cmd: 'connect';
      clients: GatewayClient[];
      /** Connects this many at a time. */
      batch: number;
      /** A room's message interval, for the coordinated-omission correction of the latency histogram. */
      expectedIntervalMs: number;
    }
  | { cmd: 'count' }
  | { cmd: 'report' }
  | { cmd: 'close' };

export type WorkerEvent =
  | { event: 'connected'; connected: number; failed: string[]; errors: string[]; ms: number }
  | { event: 'count'; delivered: number }
  | {
      event: 'report';
      /** HdrHistogram (µs) of measured messages, coordinated-omission corrected, compressed base64. */
      histogram: string;
      clients: ClientReceipts[];
      /** ReceiveMessage records without a readable id, text or acceptedAt. */
      malformed: number;
      /** Sockets that closed after they were ready. */
      closed: number;
    }
  | { event: 'error'; message: string };
