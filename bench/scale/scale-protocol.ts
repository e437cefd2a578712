/** IPC of the scale bench: the orchestrator, its client workers and the floor server. */

/** One client: its own user (the gateway allows a user 20 connections) in one room. */
export interface ScaleClient {
  user: string;
  room: string;
  token: string;
}

/**
 * `hub`: the gateway, with the SignalR handshake and `JoinRoom`. `floor`: the floor server, where connecting to
 * `<url>/?room=<room>` is all there is.
 */
export type ClientMode = 'hub' | 'floor';

export type WorkerCommand =
  | {
      cmd: 'connect';
      mode: ClientMode;
      url: string;
      clients: ScaleClient[];
      /** Connects this many at a time. */
      batch: number;
      /** A room's message interval, for the coordinated-omission correction of the latency histogram. */
      expectedIntervalMs: number;
    }
  | { cmd: 'count' }
  | { cmd: 'report' }
  | { cmd: 'close' };

export interface WorkerCounts {
  /** ReceiveMessage records received, warm-up and duplicates included. */
  delivered: number;
  /** Distinct (client, message) pairs among them. */
  unique: number;
  duplicates: number;
  /** ReceiveMessage records without a readable text or acceptedAt. */
  malformed: number;
  /** Sockets that closed after connecting. */
  closed: number;
}

export type WorkerEvent =
  | { event: 'connected'; connected: number; failed: string[]; errors: string[]; ms: number }
  | { event: 'count'; delivered: number }
  | ({ event: 'report'; histogram: string } & WorkerCounts)
  | { event: 'error'; message: string };

export type FloorCommand = { cmd: 'deliver'; room: string; payload: string } | { cmd: 'close' };

export type FloorEvent = { event: 'listening'; port: number } | { event: 'error'; message: string };
