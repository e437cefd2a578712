import { serviceToken } from '../../test/support/chat-api';
import { startApi, startGateway } from '../e2e/service-roles';
import { ChatPoster } from './chat-poster';
import { type LoadOptions, measureSide, type SideResult } from './measure-side';
import { using } from './running-resources';
import type { ScaleClient } from './scale-protocol';

/**
 * N clients, each its own user, client i in room i mod rooms: every room spreads over the workers (client i runs
 * on worker i mod workers). Room ids carry the size, so a size never sees another's messages.
 */
export function clientsOf(size: number, roomSize: number): { clients: ScaleClient[]; rooms: string[] } {
  const rooms = Array.from({ length: Math.max(1, Math.ceil(size / roomSize)) }, (_, k) => `n${size}-r${k}`);
  const clients = Array.from({ length: size }, (_, i) => {
    const user = `s${i}`;
    return { user, room: rooms[i % rooms.length], token: serviceToken(user) };
  });
  return { clients, rooms };
}

/**
 * A fresh gateway and api per size: the gateway's memory before connecting is that of a gateway nobody used.
 * `gatewayEnv` adds to the gateway's settings (the batching comparison turns `REALTIME_BATCH_WRITES` off).
 */
export async function measureOurs(
  redisUrl: string,
  clients: ScaleClient[],
  rooms: string[],
  options: LoadOptions,
  gatewayEnv: Record<string, string> = {},
): Promise<SideResult> {
  const env = { REDIS_URL: redisUrl };
  return using(await startGateway({ ...env, ...gatewayEnv }, 'redis-streams', []), async (gateway) =>
    using(await startApi(env, 'redis-streams', gateway, [], false), async (api) => {
      const poster = new ChatPoster(api.baseUrl);
      try {
        return await measureSide(
          {
            side: 'ours',
            pid: gateway.pid!,
            mode: 'hub',
            url: gateway.hubUrl.replace(/^http/, 'ws'),
            send: (message) => poster.post(message),
          },
          clients,
          rooms,
          options,
        );
      } finally {
        await poster.close();
      }
    }),
  );
}
