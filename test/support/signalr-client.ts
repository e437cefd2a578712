import {
  HubConnection,
  HubConnectionBuilder,
  HttpTransportType,
  LogLevel,
  type IRetryPolicy,
} from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';

/** The combinations the hub serves, as a stock client forces them. */
export type HubProtocolChoice = 'json' | 'messagepack';

export interface Received {
  method: string;
  args: unknown[];
  at: number;
}

/** A stock @microsoft/signalr client that records every invocation it receives. */
export class TestClient {
  readonly received: Received[] = [];
  readonly connection: HubConnection;
  closedWith?: Error;
  closed = false;

  constructor(
    hubUrl: string,
    token: string | (() => string),
    options: {
      methods?: string[];
      reconnect?: boolean | IRetryPolicy;
      skipNegotiation?: boolean;
      /** How often the client pings an idle connection (the stock default is 15 s). */
      keepAliveMs?: number;
      /** `withStatefulReconnect()`: a dropped socket resumes the connection. */
      statefulReconnect?: boolean;
      /** `withHubProtocol(new MessagePackHubProtocol())` for 'messagepack'; JSON otherwise. */
      protocol?: HubProtocolChoice;
      /** Forces one transport (`transport: HttpTransportType.X`); otherwise the client picks from negotiate. */
      transport?: HttpTransportType;
    } = {},
  ) {
    let builder = new HubConnectionBuilder()
      .withUrl(hubUrl, {
        accessTokenFactory: typeof token === 'function' ? token : () => token,
        ...(options.transport !== undefined ? { transport: options.transport } : {}),
        ...(options.skipNegotiation ? { skipNegotiation: true, transport: HttpTransportType.WebSockets } : {}),
      })
      .configureLogging(process.env.TEST_LOGS ? LogLevel.Information : LogLevel.None);
    if (options.protocol === 'messagepack') builder = builder.withHubProtocol(new MessagePackHubProtocol());
    if (options.statefulReconnect) builder = builder.withStatefulReconnect();
    if (options.reconnect === true) builder = builder.withAutomaticReconnect([0, 100, 200, 500, 1000]);
    else if (options.reconnect) builder = builder.withAutomaticReconnect(options.reconnect);
    this.connection = builder.build();
    if (options.keepAliveMs) this.connection.keepAliveIntervalInMilliseconds = options.keepAliveMs;
    for (const method of options.methods ?? ['ReceiveMessage', 'UserTyping', 'Notify']) {
      this.connection.on(method, (...args: unknown[]) => this.received.push({ method, args, at: Date.now() }));
    }
    this.connection.onclose((error) => {
      this.closed = true;
      this.closedWith = error;
    });
  }

  async start(): Promise<this> {
    await this.connection.start();
    return this;
  }

  of(method: string): unknown[][] {
    return this.received.filter((r) => r.method === method).map((r) => r.args);
  }

  async stop(): Promise<void> {
    await this.connection.stop();
  }
}
