import WebSocket from 'ws';
import { type GatewayApp, tokenFor } from '../../support/gateway-app';
import { framedMessagePack, handshake, type HostileFrame, jsonRecord, type ProtocolName } from './hostile-frames';

/** What one hostile client does: frames before or after its handshake, on one transport. */
export interface Attack {
  protocol: ProtocolName;
  /** false: the frames come first, the handshake (if the gateway still listens) after them. */
  handshakeFirst: boolean;
  frames: HostileFrame[];
  /** Negotiated with stateful reconnect, handshake version 2 (a session on WebSockets). */
  stateful?: boolean;
  /** WebSockets: after the probe, drop the socket, reconnect on the same id and send these. */
  resumeFrames?: HostileFrame[];
}

/**
 * How the gateway ended an attack: it answered the probe sent after the frames, or closed the connection; with the
 * last bytes it sent (where a close message is).
 */
export interface Outcome {
  /** `fenced`: a stateful session got past the frames and probe (see attackOverWebSocket). */
  how: 'answered' | 'closed' | 'fenced';
  tail: Buffer;
}

const TAIL_BYTES = 4096;

/** The last bytes received, kept small: hostile clients live in the gateway's process and count in its heap. */
class Tail {
  bytes = Buffer.alloc(0);

  add(chunk: Uint8Array): void {
    this.bytes = Buffer.concat([this.bytes, chunk]).subarray(-TAIL_BYTES);
  }
}

/** What the gateway answered to one HTTP request (or WebSocket upgrade) of a hostile client. */
export interface HttpAnswer {
  request: string;
  status: number;
}

const SETTLE_MS = 10_000;

/**
 * Hand-driven clients that send hostile frames over WebSockets, Server-Sent Events and long polling, then a probe
 * (an invocation the gateway must answer) to learn when the gateway is done with them. Each keeps its connection
 * open until `releaseAll`, so what the gateway holds for hostile connections can be measured while they are there.
 */
export class HostileClients {
  /** Every HTTP status the gateway answered. */
  readonly answers: HttpAnswer[] = [];
  private held: Array<() => Promise<void> | void> = [];
  private sequence = 0;

  constructor(private readonly gw: GatewayApp) {}

  /** Hostile connections still open (or at least not released). */
  get heldConnections(): number {
    return this.held.length;
  }

  /**
   * Answers of 500 and above. (A WebSocket close code of 1011 is no fault: like ASP.NET, the gateway closes with it
   * whenever it closes a client with an error, a protocol error included.)
   */
  serverFaults(): string[] {
    return this.answers.filter((a) => a.status >= 500).map((a) => `${a.request}: ${a.status}`);
  }

  async webSocket(attack: Attack): Promise<Outcome> {
    const { token, probeId, probe } = this.next(attack.protocol);
    const id = await this.negotiate(token, attack.stateful);
    if (!id) return { how: 'closed', tail: Buffer.alloc(0) };
    const first = await this.attackOverWebSocket(id, token, attack, attack.frames, probeId, probe);
    if (!attack.resumeFrames || first.how === 'closed') return first.outcome;
    // The socket drops without a close message: a stateful session waits for its client, who comes back on the same
    // id and goes on with more frames (a sequence message among them, or not).
    first.ws.terminate();
    const again = this.next(attack.protocol);
    const second = await this.attackOverWebSocket(id, token, attack, attack.resumeFrames, again.probeId, again.probe);
    return second.outcome;
  }

  private async attackOverWebSocket(
    id: string,
    token: string,
    attack: Attack,
    frames: HostileFrame[],
    probeId: string,
    probe: Buffer,
  ): Promise<{ how: Outcome['how']; outcome: Outcome; ws: WebSocket }> {
    const ws = new WebSocket(`${this.gw.hubUrl.replace(/^http/, 'ws')}?id=${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const tail = new Tail();
    let answered = false;
    let closed = false;
    let fenced = false;
    ws.on('message', (data: Buffer) => {
      tail.add(data);
      if (tail.bytes.includes(probeId)) answered = true;
    });
    ws.on('close', () => {
      closed = true;
    });
    ws.on('pong', () => {
      fenced = true;
    });
    ws.on('error', (error) => {
      // A refused upgrade is an HTTP answer; anything else (a socket cut) ends in 'close'.
      const status = /Unexpected server response: (\d+)/.exec(error.message)?.[1];
      if (status) this.answers.push({ request: 'upgrade', status: Number(status) });
    });
    await new Promise<void>((resolve) => {
      ws.once('open', () => resolve());
      ws.once('close', () => resolve());
    });
    this.held.push(() => ws.terminate());
    const send = (bytes: Buffer, binary: boolean) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(bytes, { binary }, () => undefined);
    };
    const sendHandshake = () => send(handshake(attack.protocol, attack.stateful ? 2 : 1), false);
    if (attack.handshakeFirst) sendHandshake();
    for (const frame of frames) send(frame.bytes, frame.binary);
    if (!attack.handshakeFirst) sendHandshake();
    send(probe, attack.protocol === 'messagepack');
    // In a session the probe may rightly go unanswered: after a Sequence message among the frames it can be a
    // duplicate, which is dropped. A WebSocket ping is answered after every frame before it was read, so its pong
    // says the gateway is through them.
    if (attack.stateful && ws.readyState === WebSocket.OPEN) ws.ping();
    const outcome = await settled('WebSockets', frames, tail, () =>
      answered ? 'answered' : closed ? 'closed' : fenced ? 'fenced' : undefined,
    );
    return { how: outcome.how, outcome, ws };
  }

  async longPolling(attack: Attack): Promise<Outcome> {
    const { token, probeId, probe } = this.next(attack.protocol);
    const id = await this.negotiate(token, attack.stateful);
    if (!id) return { how: 'closed', tail: Buffer.alloc(0) };
    const url = `${this.gw.hubUrl}?id=${id}`;
    const auth = { authorization: `Bearer ${token}` };
    const tail = new Tail();
    const first = await this.request('long poll', url, { headers: auth });
    if (first.status !== 200) return { how: 'closed', tail: tail.bytes };
    this.held.push(async () => void (await this.request('DELETE', url, { method: 'DELETE', headers: auth })));
    const post = this.poster(url, auth);
    const version = attack.stateful ? 2 : 1;
    if (attack.handshakeFirst) await post(handshake(attack.protocol, version), false);
    for (const frame of attack.frames) await post(frame.bytes, frame.binary);
    if (!attack.handshakeFirst) await post(handshake(attack.protocol, version), false);
    await post(probe, attack.protocol === 'messagepack');
    let outcome: Outcome['how'] | undefined;
    const deadline = Date.now() + SETTLE_MS;
    while (!outcome && Date.now() < deadline) {
      const poll = await this.request('long poll', `${url}&_=${Date.now()}`, { headers: auth });
      tail.add(poll.body);
      if (poll.status !== 200) outcome = 'closed';
      else if (tail.bytes.includes(probeId)) outcome = 'answered';
    }
    return settled('LongPolling', attack.frames, tail, () => outcome);
  }

  /** POSTs a client frame of an HTTP transport, as text or binary. */
  private poster(url: string, auth: Record<string, string>) {
    return (bytes: Buffer, binary: boolean) =>
      this.request('POST', url, {
        method: 'POST',
        headers: { ...auth, 'content-type': binary ? 'application/octet-stream' : 'text/plain;charset=UTF-8' },
        body: bytes,
      });
  }

  async serverSentEvents(attack: Attack): Promise<Outcome> {
    const { token, probeId, probe } = this.next('json');
    const id = await this.negotiate(token, attack.stateful);
    if (!id) return { how: 'closed', tail: Buffer.alloc(0) };
    const url = `${this.gw.hubUrl}?id=${id}`;
    const auth = { authorization: `Bearer ${token}` };
    const tail = new Tail();
    const controller = new AbortController();
    const stream = await fetch(url, { headers: { ...auth, accept: 'text/event-stream' }, signal: controller.signal });
    this.answers.push({ request: 'event stream', status: stream.status });
    if (stream.status !== 200 || !stream.body) return { how: 'closed', tail: tail.bytes };
    this.held.push(() => controller.abort());
    let answered = false;
    let ended = false;
    void (async () => {
      try {
        for await (const chunk of stream.body!) {
          tail.add(chunk as Uint8Array);
          if (tail.bytes.includes(probeId)) answered = true;
        }
      } catch {
        // Aborted by releaseAll.
      }
      ended = true;
    })();
    const post = this.poster(url, auth);
    const version = attack.stateful ? 2 : 1;
    if (attack.handshakeFirst) await post(handshake('json', version), false);
    for (const frame of attack.frames) await post(frame.bytes, frame.binary);
    if (!attack.handshakeFirst) await post(handshake('json', version), false);
    await post(probe, false);
    return settled('ServerSentEvents', attack.frames, tail, () =>
      answered ? 'answered' : ended ? 'closed' : undefined,
    );
  }

  /** Closes every hostile connection still open. */
  async releaseAll(): Promise<void> {
    const held = this.held;
    this.held = [];
    await Promise.all(held.map(async (release) => release()));
  }

  private next(protocol: ProtocolName) {
    const n = ++this.sequence;
    const probeId = `probe-${n}-qz`;
    const invocation = { type: 1, target: 'NoSuchProbe', arguments: [], invocationId: probeId };
    return {
      token: tokenFor(`hostile-${n}`),
      probeId,
      probe:
        protocol === 'json'
          ? jsonRecord(invocation)
          : framedMessagePack([1, {}, probeId, invocation.target, invocation.arguments]),
    };
  }

  private async negotiate(token: string, stateful = false): Promise<string | undefined> {
    const query = `negotiateVersion=1${stateful ? '&useStatefulReconnect=true' : ''}`;
    const response = await this.request('negotiate', `${this.gw.hubUrl}/negotiate?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status !== 200) return undefined;
    return (JSON.parse(response.body.toString('utf8')) as { connectionToken: string }).connectionToken;
  }

  private async request(what: string, url: string, init: RequestInit): Promise<{ status: number; body: Buffer }> {
    const response = await fetch(url, init);
    const body = Buffer.from(await response.arrayBuffer());
    this.answers.push({ request: what, status: response.status });
    return { status: response.status, body };
  }
}

/** Waits until the gateway answered the probe or closed; a gateway that does neither is a finding too. */
async function settled(
  transport: string,
  frames: HostileFrame[],
  tail: Tail,
  outcome: () => Outcome['how'] | undefined,
): Promise<Outcome> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const how = outcome();
    if (how) return { how, tail: tail.bytes };
    if (Date.now() > deadline) {
      throw new Error(`${transport}: after ${frames.length} frames the gateway neither answered the probe nor closed`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
