import { ConsoleLogger, type INestApplication, type LoggerService } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { RealtimeGatewayModule, type RealtimeGatewayOptions, signHs256Jwt } from '@realtime-streams/gateway';
import { RealtimeTransportModule, type RealtimeTransportOptions } from '@realtime-streams/transport';
import type { AddressInfo } from 'node:net';
import { register } from 'prom-client';

export const JWT_SECRET = 'test-jwt-secret';
export const BRIDGE_SECRET = 'test-bridge-secret';

/** A development token for `user`, valid for an hour unless told otherwise. */
export function tokenFor(user: string, expiresInS = 3600, secret = JWT_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256Jwt({ sub: user, iat: now, exp: now + expiresInS }, secret);
}

export type LogLevelName = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

export interface LogLine {
  level: LogLevelName;
  message: string;
  /** What else the call carried: the context, a stack. */
  rest: string[];
}

/**
 * A Nest logger that keeps every line with its level, for suites that assert on what was logged (no ERROR line for
 * a client's mistake). With TEST_LOGS=1 the lines are printed as well.
 */
export class RecordingLogger implements LoggerService {
  readonly lines: LogLine[] = [];
  private readonly console = process.env.TEST_LOGS ? new ConsoleLogger() : undefined;

  log(message: unknown, ...rest: unknown[]): void {
    this.record('log', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.record('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.record('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.record('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.record('verbose', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.record('fatal', message, rest);
  }

  /** The lines logged at any of `levels`. */
  at(...levels: LogLevelName[]): LogLine[] {
    return this.lines.filter((line) => levels.includes(line.level));
  }

  private record(level: LogLevelName, message: unknown, rest: unknown[]): void {
    this.lines.push({ level, message: asText(message), rest: rest.map(asText) });
    this.console?.[level](message, ...rest);
  }
}

function asText(value: unknown): string {
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface GatewayAppOptions {
  /** Gets the application's log lines (all levels), e.g. a `RecordingLogger`; by default nothing is logged. */
  logger?: LoggerService;
}

export interface GatewayApp {
  app: INestApplication;
  baseUrl: string;
  hubUrl: string;
  bridgeUrl: string;
  close(): Promise<void>;
}

/**
 * A real HTTP Nest application with the gateway (and, when `publisher` is given, the publisher module too),
 * listening on a free port.
 */
export async function startGatewayApp(
  gateway: Partial<RealtimeGatewayOptions> = {},
  publisher?: RealtimeTransportOptions,
  options: GatewayAppOptions = {},
): Promise<GatewayApp> {
  register.clear();
  const builder = Test.createTestingModule({
    imports: [
      ...(publisher ? [CqrsModule.forRoot(), RealtimeTransportModule.forRoot({ ...publisher, isGlobal: true })] : []),
      RealtimeGatewayModule.forRoot({
        auth: { jwtSecret: JWT_SECRET },
        bridge: { secret: BRIDGE_SECRET },
        ...gateway,
        hub: { path: '/hubs/chat', ...gateway.hub },
      }),
    ],
  });
  if (options.logger) builder.setLogger(options.logger);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({
    logger: options.logger ?? (process.env.TEST_LOGS ? undefined : false),
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    baseUrl,
    hubUrl: `${baseUrl}/hubs/chat`,
    bridgeUrl: `${baseUrl}/internal/realtime/events`,
    close: () => app.close(),
  };
}
