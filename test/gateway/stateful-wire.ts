import WebSocket from 'ws';
import { tokenFor } from '../support/gateway-app';
import { eventually } from '../support/stream-reader';

const RS = '\u001e';

/** A hand-driven stateful-reconnect client: what the stock client does, step by step, so each step can be checked. */
export class StatefulWire {
  readonly records: Array<Record<string, unknown>> = [];
  socket!: WebSocket;
  closed = false;

  private constructor(
    private readonly hubUrl: string,
    readonly token: string,
    readonly connectionToken: string,
  ) {}

  static async negotiate(hubUrl: string, token: string, query = '&useStatefulReconnect=true') {
    const response = await fetch(`${hubUrl}/negotiate?negotiateVersion=1${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  static async connect(hubUrl: string, user: string): Promise<StatefulWire> {
    const token = tokenFor(user);
    const { body } = await StatefulWire.negotiate(hubUrl, token);
    const wire = new StatefulWire(hubUrl, token, body.connectionToken as string);
    expect(await wire.open()).toBe(101);
    wire.send({ protocol: 'json', version: 2 });
    await eventually(() => expect(wire.records.length).toBeGreaterThan(0));
    expect(wire.records.shift()).toEqual({});
    return wire;
  }

  /** Another client holding this session's connection token (and its own user's token), as an attacker would. */
  withToken(token: string): StatefulWire {
    return new StatefulWire(this.hubUrl, token, this.connectionToken);
  }

  /** Opens a socket on the session's URL (the first connect, or a resume); resolves to the upgrade's status. */
  open(hubUrl = this.hubUrl, token = this.token): Promise<number> {
    this.closed = false;
    this.socket = new WebSocket(`${hubUrl.replace(/^http/, 'ws')}?id=${this.connectionToken}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    this.socket.on('message', (data: Buffer) => {
      for (const part of data.toString('utf8').split(RS))
        if (part) this.records.push(JSON.parse(part) as Record<string, unknown>);
    });
    this.socket.on('close', () => (this.closed = true));
    return new Promise((resolve) => {
      this.socket.once('open', () => resolve(101));
      this.socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      this.socket.once('error', () => resolve(0));
    });
  }

  send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message) + RS);
  }

  invocations(): unknown[] {
    return this.records.filter((r) => r.type === 1).map((r) => (r.arguments as unknown[])[0]);
  }

  cut(): void {
    this.socket.terminate();
  }
}
