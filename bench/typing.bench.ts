/**
 * Typing benchmark: simulated users type in rooms through the real pipeline (EventBus -> coalescer -> chain ->
 * in-process transport), in real time, and we count what the coalescer lets out.
 *
 *   npm run bench:typing [-- --seconds 15 --users 300 --rooms 30 --window 100 --refresh 1000 --seed 42]
 *
 * Keystroke profiles (inter-key intervals in ms):
 *   fast     8-10 keys/s with bursts: 30 % of intervals uniform(25, 60) (bursts), the rest log-normal(median 135, sigma 0.3)
 *   average  4-5 keys/s: log-normal(median 210, sigma 0.35), 5 % uniform(60, 100)
 * Every user types phrases of 10-40 keys. After a phrase, half the time the user sends a message (which supersedes
 * their pending "typing"), otherwise the client sends "stopped typing" after 1 s without a key. Then a pause of
 * 1.5-4 s. The client sends "typing" on every keystroke, as the stock clients of the plan do.
 *
 * Reports per profile: events in and out, reduction, final states lost, stale "typing" after a message, and the
 * delay the coalescer added (measured at the sink, from publish to delivery), then the goals: reduction at least
 * 80 % (fast) and 60 % (average), nothing lost or stale, at most one window of delay. `--refresh 0` measures
 * windows alone (the coalescer before its refresh interval). Writes bench/results/typing.json.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule, EventBus } from '@nestjs/cqrs';
import { epochMs } from '@realtime-streams/contracts';
import { RealtimeEvent, RealtimeTransportModule, toGroup } from '@realtime-streams/transport';
import { InProcessSinkRegistry } from '@realtime-streams/transport/testing';
import { register } from 'prom-client';
import { LatencyRecorder } from './support/latency-recorder';
import { Random } from './support/random';
import { machine, printTable, writeResult } from './support/report';

@RealtimeEvent({
  method: 'UserTyping',
  type: 'chat.typing',
  to: (e: UserTyping) => toGroup(`room:${e.roomId}`),
  coalesce: { key: (e: UserTyping) => `${e.roomId}:${e.userId}` },
})
class UserTyping {
  constructor(
    readonly roomId: string,
    readonly userId: string,
    readonly isTyping: boolean,
  ) {}
}

@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: MessageSent) => toGroup(`room:${e.roomId}`),
  supersedes: (e: MessageSent) => `${e.roomId}:${e.userId}`,
})
class MessageSent {
  constructor(
    readonly roomId: string,
    readonly userId: string,
  ) {}
}

interface Profile {
  name: string;
  interval: (random: Random) => number;
}

const PROFILES: Profile[] = [
  {
    name: 'fast',
    interval: (r) => (r.next() < 0.3 ? r.uniform(25, 60) : r.logNormal(135, 0.3)),
  },
  {
    name: 'average',
    interval: (r) => (r.next() < 0.05 ? r.uniform(60, 100) : r.logNormal(210, 0.35)),
  },
];

const STOP_AFTER_IDLE_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Delivered {
  at: number;
  key: string;
  kind: 'typing' | 'stopped' | 'message';
  publishedAt: number;
}

async function runProfile(
  profile: Profile,
  options: { seconds: number; users: number; rooms: number; window: number; refresh: number; seed: number },
) {
  register.clear();
  @Module({})
  class BenchModule {
    static with(): DynamicModule {
      return {
        module: BenchModule,
        imports: [
          CqrsModule.forRoot(),
          RealtimeTransportModule.forRoot({
            inProcess: true,
            coalesceWindowMs: options.window,
            coalesceRefreshMs: options.refresh,
          }),
        ],
      };
    }
  }
  const app = await NestFactory.createApplicationContext(BenchModule.with(), { logger: ['error', 'warn'] });
  const delivered: Delivered[] = [];
  app.get(InProcessSinkRegistry).register((batch) => {
    const at = epochMs();
    for (const outbound of batch) {
      const arg = outbound.envelope.args[0] as UserTyping | MessageSent;
      const key = `${arg.roomId}:${arg.userId}`;
      const kind = 'isTyping' in arg ? (arg.isTyping ? 'typing' : 'stopped') : 'message';
      delivered.push({ at, key, kind, publishedAt: outbound.envelope.ts });
    }
  });
  await app.init();
  const bus = app.get(EventBus);

  let typingIn = 0;
  let keystrokes = 0;
  let typingMs = 0;
  let messages = 0;
  /** What each client sent, in order, with times: the reference for lost final states. */
  const sent = new Map<string, Array<{ at: number; kind: 'typing' | 'stopped' | 'message' }>>();
  const until = epochMs() + options.seconds * 1000;

  const user = async (index: number) => {
    const random = new Random(options.seed * 100_003 + index);
    const roomId = String(index % options.rooms);
    const userId = `user-${index}`;
    const key = `${roomId}:${userId}`;
    const log: Array<{ at: number; kind: 'typing' | 'stopped' | 'message' }> = [];
    sent.set(key, log);
    await sleep(random.uniform(0, 2000));
    while (epochMs() < until) {
      const keys = random.int(10, 40);
      const phraseStart = epochMs();
      for (let k = 0; k < keys; k++) {
        // The time before publishing: the envelope's ts is taken inside publish, so it is never earlier.
        log.push({ at: epochMs(), kind: 'typing' });
        bus.publish(new UserTyping(roomId, userId, true));
        typingIn++;
        keystrokes++;
        if (k < keys - 1) await sleep(profile.interval(random));
      }
      typingMs += epochMs() - phraseStart;
      if (random.next() < 0.5) {
        await sleep(random.uniform(100, 400));
        log.push({ at: epochMs(), kind: 'message' });
        bus.publish(new MessageSent(roomId, userId));
        messages++;
      } else {
        await sleep(STOP_AFTER_IDLE_MS);
        log.push({ at: epochMs(), kind: 'stopped' });
        bus.publish(new UserTyping(roomId, userId, false));
        typingIn++;
      }
      await sleep(random.uniform(1500, 4000));
    }
  };
  await Promise.all(Array.from({ length: options.users }, (_, i) => user(i)));
  await sleep(options.window * 3);
  await app.close();

  // Check every key: each "stopped" the client sent must be delivered; no "typing" may follow a message.
  const byKey = new Map<string, Delivered[]>();
  for (const d of delivered) {
    let list = byKey.get(d.key);
    if (!list) byKey.set(d.key, (list = []));
    list.push(d);
  }
  let finalStatesLost = 0;
  let staleTypingAfterMessage = 0;
  for (const [key, log] of sent) {
    const got = byKey.get(key) ?? [];
    for (let i = 0; i < log.length; i++) {
      const next = log[i + 1]?.at ?? Infinity;
      if (log[i].kind === 'stopped') {
        // Delivered after it was sent and before the client's next event.
        if (!got.some((d) => d.kind === 'stopped' && d.publishedAt >= log[i].at && d.publishedAt < next))
          finalStatesLost++;
      } else if (log[i].kind === 'message') {
        const message = got.find((d) => d.kind === 'message' && d.publishedAt >= log[i].at);
        if (message && got.some((d) => d.kind === 'typing' && d.at > message.at && d.publishedAt < log[i].at)) {
          staleTypingAfterMessage++;
        }
      }
    }
  }
  const typingOut = delivered.filter((d) => d.kind !== 'message');
  const delay = new LatencyRecorder();
  for (const d of typingOut) delay.record(d.at - d.publishedAt);
  const delays = delay.summary();
  return {
    profile: profile.name,
    keysPerSecond: Math.round((keystrokes / (typingMs / 1000)) * 10) / 10,
    eventsIn: typingIn,
    eventsOut: typingOut.length,
    reductionPercent: Math.round((1 - typingOut.length / typingIn) * 1000) / 10,
    messages,
    finalStatesLost,
    staleTypingAfterMessage,
    addedDelayMs: { p50: delays.p50, p95: delays.p95, p99: delays.p99, max: delays.max },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '15' },
      users: { type: 'string', default: '300' },
      rooms: { type: 'string', default: '30' },
      window: { type: 'string', default: '100' },
      refresh: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '42' },
    },
  });
  const options = {
    seconds: Number(values.seconds),
    users: Number(values.users),
    rooms: Number(values.rooms),
    window: Number(values.window),
    refresh: Number(values.refresh),
    seed: Number(values.seed),
  };
  Logger.overrideLogger(['error', 'warn']);
  const results = [];
  for (const profile of PROFILES) results.push(await runProfile(profile, options));

  console.log(
    `\nTyping benchmark: ${options.users} users in ${options.rooms} rooms, ${options.seconds} s per profile, ` +
      `window ${options.window} ms, refresh ${options.refresh} ms, seed ${options.seed}; ${machine().cpus} CPUs\n`,
  );
  printTable(
    results.map((r) => ({
      profile: r.profile,
      'keys/s': r.keysPerSecond,
      'events in': r.eventsIn,
      'events out': r.eventsOut,
      'reduction %': r.reductionPercent,
      'final lost': r.finalStatesLost,
      'stale typing': r.staleTypingAfterMessage,
      'delay p50 ms': r.addedDelayMs.p50,
      'p95 ms': r.addedDelayMs.p95,
      'max ms': r.addedDelayMs.max,
    })),
  );
  const goals = goalsOf(results, options.window);
  console.log('\nGoals\n');
  printTable(goals);
  const file = writeResult('typing', { date: new Date().toISOString(), machine: machine(), options, results, goals });
  console.log(`\nWrote ${file}`);
}

/** Reduction per profile, nothing lost or stale, and no more delay than one window. */
function goalsOf(results: Awaited<ReturnType<typeof runProfile>>[], windowMs: number) {
  const minimum: Record<string, number> = { fast: 80, average: 60 };
  const rows: Array<Record<string, string | number>> = [];
  for (const r of results) {
    const goal = minimum[r.profile];
    if (goal !== undefined)
      rows.push({
        goal: `${r.profile}: reduction >= ${goal} %`,
        figure: r.reductionPercent,
        met: r.reductionPercent >= goal ? 'yes' : 'NO',
      });
  }
  const lost = results.reduce((sum, r) => sum + r.finalStatesLost, 0);
  const stale = results.reduce((sum, r) => sum + r.staleTypingAfterMessage, 0);
  const delay = Math.max(...results.map((r) => r.addedDelayMs.max));
  rows.push({ goal: 'final states lost = 0', figure: lost, met: lost === 0 ? 'yes' : 'NO' });
  rows.push({ goal: 'stale "typing" after a message = 0', figure: stale, met: stale === 0 ? 'yes' : 'NO' });
  rows.push({
    goal: `added delay <= one window (${windowMs} ms)`,
    figure: delay,
    met: delay <= windowMs ? 'yes' : 'NO',
  });
  return rows;
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
