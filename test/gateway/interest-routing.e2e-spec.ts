import { EventBus } from '@nestjs/cqrs';
import { StreamKeys } from '@realtime-streams/contracts';
import { ShardInterest, StreamConsumer } from '@realtime-streams/gateway/testing';
import { RealtimeEvent, toGroup } from '@realtime-streams/transport';
import type Redis from 'ioredis';
import { type GatewayApp, RecordingLogger, startGatewayApp, tokenFor } from '../support/gateway-app';
import { RedisServer } from '../support/redis-server';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { StatefulWire } from './stateful-wire';

@RealtimeEvent({
  method: 'ReceiveMessage',
  to: (e: Posted) => toGroup(e.room),
  sequence: (e: Posted) => e.seq,
})
class Posted {
  constructor(
    readonly room: string,
    readonly seq: number,
  ) {}
}

const SHARDS = 16;
const KEYS = new StreamKeys('realtime', SHARDS);
const shardOf = (targetKey: string) => KEYS.forTarget(targetKey);

/** The first name of `prefix0`, `prefix1`... whose target key is not on any of `avoid`'s shards. */
function nameAvoiding(prefix: string, kind: 'group' | 'user', avoid: string[]): string {
  for (let i = 0; ; i++) if (!avoid.includes(shardOf(`${kind}:${prefix}${i}`))) return `${prefix}${i}`;
}

/** What one client received, counted by number: lost, duplicated, out of order. */
function received(client: TestClient): number[] {
  return client.of('ReceiveMessage').map(([m]) => (m as Posted).seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('interest routing over several gateways (real redis-server, stock clients)', () => {
  let redis: RedisServer;
  let admin: Redis;
  const apps: GatewayApp[] = [];
  const clients: TestClient[] = [];
  const wires: StatefulWire[] = [];

  const gatewayOptions = (instanceId: string) => ({
    instanceId,
    redis: { url: redis.url, shards: SHARDS, blockMs: 500, routingLingerMs: 200, monitorIntervalMs: 60_000 },
  });
  const startGateway = async (instanceId: string, logger?: RecordingLogger) => {
    const gw = await startGatewayApp(gatewayOptions(instanceId), undefined, { logger });
    apps.push(gw);
    return gw;
  };
  /** A gateway app with the publisher too (it has no clients of its own: it reads nothing). */
  const startPublisher = async () => {
    const gw = await startGatewayApp(gatewayOptions('publisher'), { redis: { url: redis.url, shards: SHARDS } });
    apps.push(gw);
    return gw.app.get(EventBus);
  };
  const member = async (gw: GatewayApp, user: string, room?: string) => {
    const client = await new TestClient(gw.hubUrl, tokenFor(user)).start();
    clients.push(client);
    if (room) await client.connection.invoke('JoinGroup', room);
    return client;
  };
  const groupsOn = async (key: string) => {
    const groups = (await admin.xinfo('GROUPS', key).catch(() => [])) as unknown[][];
    return groups.map((fields) => String(fields[1])).sort();
  };
  const entriesRead = (gw: GatewayApp) => gw.app.get(StreamConsumer).delivered;

  beforeAll(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop().catch(() => undefined)));
    for (const wire of wires.splice(0)) wire.cut();
    for (const gw of apps.splice(0)) await gw.close();
    await admin.flushall();
  });

  afterAll(async () => {
    admin.disconnect();
    await redis.dispose();
  });

  it('reads a room on the 3 of 6 gateways its members sit on, from a join on, and stops after the last one left', async () => {
    const everyone = shardOf('all');
    const room = nameAvoiding('room:', 'group', [everyone]);
    const roomShard = shardOf(`group:${room}`);
    const users = ['alice', 'bob', 'carol', 'dave', 'frank'].map((u) => nameAvoiding(u, 'user', [roomShard]));
    const [alice, bob, carol, dave, frank] = users;
    const elsewhere = nameAvoiding('other:', 'group', [roomShard]);
    const publish = await startPublisher();
    const gws = [];
    for (let i = 1; i <= 6; i++) gws.push(await startGateway(`gw-${i}`));

    const members = [
      await member(gws[0], alice, room),
      await member(gws[1], bob, room),
      await member(gws[2], carol, room),
    ];
    // A client of another room on a fourth gateway: it reads its own shards, not the room's.
    await member(gws[3], frank, elsewhere);
    for (let seq = 1; seq <= 20; seq++) publish.publish(new Posted(room, seq));
    for (const client of members) await eventually(() => expect(received(client)).toEqual(range(1, 20)));
    expect(await groupsOn(roomShard)).toEqual(['gateway:gw-1', 'gateway:gw-2', 'gateway:gw-3']);
    for (const gw of gws.slice(0, 3)) expect(entriesRead(gw)).toBe(20);
    for (const gw of gws.slice(3)) expect(entriesRead(gw)).toBe(0);
    expect(gws[4].app.get(ShardInterest).readKeys()).toEqual([]);

    // A member joining on the fourth gets what comes after its join, exactly.
    const late = await member(gws[3], dave, room);
    expect(await groupsOn(roomShard)).toContain('gateway:gw-4');
    for (let seq = 21; seq <= 30; seq++) publish.publish(new Posted(room, seq));
    await eventually(() => expect(received(late)).toEqual(range(21, 30)));
    for (const client of members) await eventually(() => expect(received(client)).toEqual(range(1, 30)));

    // The only member on the first gateway leaves: after the linger, it stops reading the room's shard.
    await members[0].connection.invoke('LeaveGroup', room);
    await eventually(async () => expect(await groupsOn(roomShard)).not.toContain('gateway:gw-1'));
    expect(gws[0].app.get(ShardInterest).readKeys()).not.toContain(roomShard);
    const readBefore = entriesRead(gws[0]);
    for (let seq = 31; seq <= 35; seq++) publish.publish(new Posted(room, seq));
    for (const client of [members[1], members[2]])
      await eventually(() => expect(received(client)).toEqual(range(1, 35)));
    await eventually(() => expect(received(late)).toEqual(range(21, 35)));
    expect(entriesRead(gws[0])).toBe(readBefore);
    expect(received(members[0])).toEqual(range(1, 30));
  });

  it('starts the shards of many first clients at once, each before its join is answered', async () => {
    const publish = await startPublisher();
    const logger = new RecordingLogger();
    const gw = await startGateway('gw-fresh', logger);
    const rooms = Array.from({ length: 12 }, (_, i) => `room:burst-${i}`);
    const members = await Promise.all(rooms.map((room, i) => member(gw, `burst-${i}`, room)));
    rooms.forEach((room, i) => publish.publish(new Posted(room, i + 1)));
    for (const [i, client] of members.entries()) await eventually(() => expect(received(client)).toEqual([i + 1]));
    const needed = new Set(
      ['all', ...rooms.map((r) => `group:${r}`), ...rooms.map((_, i) => `user:burst-${i}`)].map(shardOf),
    );
    expect(new Set(gw.app.get(ShardInterest).readKeys())).toEqual(needed);
    expect(logger.lines.filter((line) => line.rest.includes('RealtimeStreamRouting'))).toEqual([]);
  });

  it('resumes a stateful session exactly on a gateway that did not read its room before', async () => {
    const room = nameAvoiding('room:', 'group', [shardOf('all'), shardOf('user:erin')]);
    const roomShard = shardOf(`group:${room}`);
    const publish = await startPublisher();
    const first = await startGateway('gw-a');
    const second = await startGateway('gw-b');
    // The second gateway serves someone else, on other shards.
    await member(second, nameAvoiding('zoe', 'user', [roomShard]));

    const wire = await StatefulWire.connect(first.hubUrl, 'erin');
    wires.push(wire);
    wire.send({ type: 1, target: 'JoinGroup', arguments: [room], invocationId: '0' });
    await eventually(() => expect(wire.records.filter((r) => r.type === 3)).toHaveLength(1));
    const seqs = () => wire.invocations().map((m) => (m as Posted).seq);
    for (let seq = 1; seq <= 5; seq++) publish.publish(new Posted(room, seq));
    await eventually(() => expect(seqs()).toEqual(range(1, 5)));
    // The completion of the join and messages 1 and 2.
    wire.send({ type: 8, sequenceId: 3 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    wire.cut();
    await eventually(() => expect(wire.closed).toBe(true));
    // Sent while the client is away: the first gateway keeps them for the session; the second never read them.
    for (let seq = 6; seq <= 8; seq++) publish.publish(new Posted(room, seq));
    await eventually(() => expect(entriesRead(first)).toBe(8));
    expect(await groupsOn(roomShard)).toEqual(['gateway:gw-a']);

    wire.records.length = 0;
    expect(await wire.open(second.hubUrl)).toBe(101);
    // The client's own messages: it sent one (the join), so it resends from its second, which is none.
    wire.send({ type: 9, sequenceId: 2 });
    await eventually(() => expect(seqs()).toEqual(range(3, 8)));
    expect(await groupsOn(roomShard)).toContain('gateway:gw-b');
    for (let seq = 9; seq <= 10; seq++) publish.publish(new Posted(room, seq));
    await eventually(() => expect(seqs()).toEqual(range(3, 10)));
  });
});
