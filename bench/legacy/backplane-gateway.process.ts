/**
 * One realtime server of the plan's baseline as it would be deployed with several (`legacy-backplane`): the gateway
 * library (hub, groups, delivery: the same code as the reference gateway, so the comparison measures the path, not
 * the hub) with its in-process input only, plus a relay (backplane-relay.ts): the legacy API's POST is published
 * to Redis pub/sub and every server delivers what its subscriptions bring to its own clients.
 *
 * Run as a child process (backplane-gateway.ts): PORT (hub, `/hubs/chat`), RELAY_PORT (the POST), REDIS_URL,
 * BACKPLANE_CHANNELS (`one` or `group`), BRIDGE_SECRET, JWT_SECRET, INSTANCE_ID. Joins as the reference service:
 * `JoinRoom(roomId)` / `LeaveRoom(roomId)` for group `room:<roomId>`, every room open (its development default).
 */
import 'reflect-metadata';
import { createServer } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InProcessSinkRegistry } from '@realtime-streams/common';
import { HubMethodError, RealtimeGatewayModule } from '@realtime-streams/gateway';
import { type BackplaneChannels, BackplaneRelay } from './backplane-relay';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
/** The reference service's room id rule (src/chat/chat-input.ts), checked at every join as it does. */
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

@Module({})
class BackplaneGatewayModule {
  static forRelay(relay: BackplaneRelay, sinks: InProcessSinkRegistry): DynamicModule {
    return {
      module: BackplaneGatewayModule,
      // The gateway registers its in-process sink here (it looks the registry up by class); the relay feeds it.
      providers: [{ provide: InProcessSinkRegistry, useValue: sinks }],
      imports: [
        RealtimeGatewayModule.forRoot({
          instanceId: env('INSTANCE_ID'),
          transport: 'in-process',
          auth: { jwt: { secret: env('JWT_SECRET') } },
          hub: {
            path: '/hubs/chat',
            groupMethods: [{ join: 'JoinRoom', leave: 'LeaveRoom', toGroup: roomGroupOf }],
            // Called at every join: the per-group layout subscribes before the join completes.
            authorizeGroup:
              relay.channels === 'group' ? async (_user, group) => (await relay.subscribeTo(group), true) : undefined,
          },
        }),
      ],
    };
  }
}

function roomGroupOf(roomId: unknown): string {
  if (typeof roomId !== 'string' || !ROOM_ID.test(roomId)) throw new HubMethodError('roomId must be 1-64 letters');
  return `room:${roomId}`;
}

async function main(): Promise<void> {
  const sinks = new InProcessSinkRegistry();
  const relay = new BackplaneRelay(
    env('REDIS_URL'),
    env('BACKPLANE_CHANNELS') as BackplaneChannels,
    env('BRIDGE_SECRET'),
    sinks,
  );
  await relay.start();
  const app = await NestFactory.create(BackplaneGatewayModule.forRelay(relay, sinks), {
    logger: ['error', 'warn'],
  });
  await app.listen(Number(env('PORT')), '127.0.0.1');
  const server = createServer((request, response) => {
    relay.handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(502).end(String(error));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(Number(env('RELAY_PORT')), '127.0.0.1', resolve));
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    server.close();
    server.closeAllConnections();
    await app.close();
    await relay.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void close());
  process.on('message', (message: { cmd?: string }) => {
    if (message.cmd === 'close') void close();
    if (message.cmd === 'counts')
      process.send?.({ event: 'counts', published: relay.published, received: relay.received });
  });
  // The bench gone, nobody would ever stop this server.
  process.on('disconnect', () => void close());
  process.send?.({ event: 'listening' });
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
