/** IPC between the e2e bench orchestrator and its client worker processes. */

export interface ClientSpec {
  user: string;
  room: string;
  token: string;
  /** This client's gateway, when not the command's `hubUrl` (runs with several gateways). */
  hubUrl?: string;
}

export type WorkerCommand =
  | {
      cmd: 'connect';
      hubUrl: string;
      clients: ClientSpec[];
      expectedIntervalMs: number;
      /** The clients' hub protocol (`withHubProtocol(new MessagePackHubProtocol())` for 'messagepack'). */
      protocol: 'json' | 'messagepack';
    }
  | { cmd: 'report' }
  | { cmd: 'close' };

export interface ClientReport {
  user: string;
  room: string;
  /** Messages received, by sender: the sequence numbers, in arrival order (duplicates included). */
  received: Record<string, number[]>;
  typingEvents: number;
}

export type WorkerMessage =
  | { event: 'connected'; clients: number; failed: number; ms: number }
  | {
      event: 'report';
      /** HdrHistogram (microseconds), coordinated-omission corrected, compressed base64. */
      histogram: string;
      /** The same without the correction. */
      rawHistogram: string;
      clients: ClientReport[];
    }
  | { event: 'error'; message: string };

/** Message text the bench posts: `<sender>|<seq>|<w or m>` (warm-up or measured). */
export function messageText(sender: string, seq: number, measured: boolean): string {
  return `${sender}|${seq}|${measured ? 'm' : 'w'}`;
}

export function parseMessageText(text: string): { sender: string; seq: number; measured: boolean } | undefined {
  const [sender, seq, phase] = text.split('|');
  if (!sender || seq === undefined || (phase !== 'm' && phase !== 'w')) return undefined;
  return { sender, seq: Number(seq), measured: phase === 'm' };
}
