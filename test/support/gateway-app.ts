import type { INestApplication } from '@nestjs/common';
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
): Promise<GatewayApp> {
  register.clear();
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...(publisher ? [CqrsModule.forRoot(), RealtimeTransportModule.forRoot({ ...publisher, isGlobal: true })] : []),
      RealtimeGatewayModule.forRoot({
        auth: { jwtSecret: JWT_SECRET },
        bridge: { secret: BRIDGE_SECRET },
        ...gateway,
        hub: { path: '/hubs/chat', ...gateway.hub },
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: process.env.TEST_LOGS ? undefined : false });
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
