import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { serviceToken } from '../../test/support/chat-api';
import { LatencyRecorder } from '../support/latency-recorder';
import { Random } from '../support/random';
import { type ClientReport, type ClientSpec, messageText, type WorkerCommand, type WorkerMessage } from './protocol';

const ROOT = join(__dirname, '..', '..');

export interface ScenarioSpec {
  name: string;
  transport: 'redis-streams' | 'http-bridge' | 'legacy-bridge' | 'legacy-backplane';
  clients: number;
  rooms: number;
  /** Messages per second, over all rooms. */
  rate: number;
  warmupSeconds: number;
  seconds: number;
  /** Every message is preceded by its sender's keystrokes (typing events). */
  typing: boolean;
  workers: number;
  apiUrl: string;
  hubUrl: string;
  /** Several gateways: each client connects to one drawn at random (seeded), so a room spreads over them. */
  hubUrls?: string[];
  /** The clients' hub protocol (JSON by default). */
  protocol?: 'json' | 'messagepack';
  /** Told when posting starts and when the last deliveries had time to arrive (a bench measures in between). */
  posting?: { started(): void; ended(): void };
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

export interface ScenarioResult {
  name: string;
  transport: string;
  clients: number;
  rooms: number;
  rate: number;
  seconds: number;
  posted: number;
  postErrors: number;
  /** Deliveries a client should have had (every message of its room, to every member). */
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  /** ms, coordinated-omission corrected (the headline figures). */
  latencyMs: Percentiles;
  /** ms, as measured, without the correction. */
  rawLatencyMs: Percentiles;
  typing?: { posted: number; deliveredPerMember: number; reductionPercent: number };
  connectMs: number;
  /** ms from sending `POST .../messages` to its 201, as the poster saw it: what the request path costs. */
  responseMs: { p50: number; p95: number; p99: number };
}

interface Scheduled {
  at: number;
  room: string;
  sender: string;
  kind: 'message' | 'typing';
  seq: number;
  measured: boolean;
}

/**
 * One scenario: clients connect (spread over worker processes), the bench posts messages (and typing) at a
 * constant arrival rate, open loop, then collects every client's receipts and latency histogram.
 */
export async function runScenario(spec: ScenarioSpec): Promise<ScenarioResult> {
  const members = new Map<string, string[]>();
  const clients: ClientSpec[] = [];
  const hubs = spec.hubUrls && spec.hubUrls.length > 1 ? spec.hubUrls : undefined;
  const placement = new Random(25);
  for (let i = 0; i < spec.clients; i++) {
    const room = `r${i % spec.rooms}`;
    const user = `u${i}`;
    const hubUrl = hubs?.[Math.floor(placement.next() * hubs.length)];
    clients.push({ user, room, token: serviceToken(user), hubUrl });
    (members.get(room) ?? members.set(room, []).get(room)!).push(user);
  }

  const workers = await startWorkers(spec, clients);
  const pool = new Pool(spec.apiUrl, { connections: 32, pipelining: 1 });
  try {
    const connectMs = Math.max(...workers.map((w) => w.connectMs));
    const schedule = buildSchedule(spec, members);
    spec.posting?.started();
    const { posted, postErrors, typingPosted, delivered: okMessages, responses } = await post(spec, pool, schedule);
    // Let the last messages arrive.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    spec.posting?.ended();
    const reports = await Promise.all(workers.map((w) => w.report()));
    const responseMs = responses.summary();
    return {
      ...summarize(spec, reports, okMessages, posted, postErrors, typingPosted, connectMs),
      responseMs: { p50: round3(responseMs.p50), p95: round3(responseMs.p95), p99: round3(responseMs.p99) },
    };
  } finally {
    await pool.close();
    await Promise.all(workers.map((w) => w.close()));
  }
}

/** Messages (and keystrokes) at their intended times, for the whole run, in time order. */
function buildSchedule(spec: ScenarioSpec, members: Map<string, string[]>): Scheduled[] {
  const random = new Random(7);
  const events: Scheduled[] = [];
  const seqs = new Map<string, number>();
  const total = Math.round(spec.rate * (spec.warmupSeconds + spec.seconds));
  const start = 1000; // relative ms: leaves room for the keystrokes before the first messages
  for (let i = 0; i < total; i++) {
    const room = `r${i % spec.rooms}`;
    const roomMembers = members.get(room)!;
    const sender = roomMembers[Math.floor(i / spec.rooms) % roomMembers.length];
    const at = start + (i * 1000) / spec.rate;
    const seq = (seqs.get(sender) ?? 0) + 1;
    seqs.set(sender, seq);
    const measured = at - start >= spec.warmupSeconds * 1000;
    if (spec.typing) {
      // The fast typing profile of bench:typing: 30 % burst intervals, the rest log-normal around 135 ms.
      let t = at;
      const keys = random.int(4, 12);
      for (let k = 0; k < keys; k++) {
        t -= random.next() < 0.3 ? random.uniform(25, 60) : random.logNormal(135, 0.3);
        events.push({ at: t, room, sender, kind: 'typing', seq: 0, measured });
      }
    }
    events.push({ at, room, sender, kind: 'message', seq, measured });
  }
  return events.sort((a, b) => a.at - b.at);
}

async function post(spec: ScenarioSpec, pool: Pool, schedule: Scheduled[]) {
  let posted = 0;
  let postErrors = 0;
  let typingPosted = 0;
  const delivered: Array<{ room: string; sender: string; seq: number }> = [];
  const responses = new LatencyRecorder();
  const inFlight = new Set<Promise<void>>();
  const tokens = new Map<string, string>();
  const tokenOf = (user: string) => tokens.get(user) ?? tokens.set(user, serviceToken(user)).get(user)!;
  const started = performance.now() - schedule[0].at;
  let next = 0;
  const send = (event: Scheduled): Promise<void> => {
    const sentAt = performance.now();
    return pool
      .request({
        path: `/rooms/${event.room}/${event.kind === 'message' ? 'messages' : 'typing'}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenOf(event.sender)}` },
        body: JSON.stringify(
          event.kind === 'message'
            ? { text: messageText(event.sender, event.seq, event.measured) }
            : { isTyping: true },
        ),
      })
      .then(async (response) => {
        await response.body.dump();
        if (event.kind === 'typing') {
          if (response.statusCode === 202) typingPosted++;
        } else if (response.statusCode === 201) {
          posted++;
          if (event.measured) responses.record(performance.now() - sentAt);
          delivered.push({ room: event.room, sender: event.sender, seq: event.seq });
        } else {
          postErrors++;
        }
      })
      .catch(() => {
        if (event.kind === 'message') postErrors++;
      });
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now() - started;
      // Open loop: everything due is sent now, whatever is still in flight.
      while (next < schedule.length && schedule[next].at <= now) {
        const request = send(schedule[next++]);
        inFlight.add(request);
        void request.finally(() => inFlight.delete(request));
      }
      if (next >= schedule.length) return resolve();
      setTimeout(tick, Math.min(1, Math.max(0, schedule[next].at - now)));
    };
    tick();
  });
  await Promise.all(inFlight);
  return { posted, postErrors, typingPosted, delivered, responses };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function summarize(
  spec: ScenarioSpec,
  reports: WorkerReport[],
  okMessages: Array<{ room: string; sender: string; seq: number }>,
  posted: number,
  postErrors: number,
  typingPosted: number,
  connectMs: number,
): Omit<ScenarioResult, 'responseMs'> {
  const corrected = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const raw = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const report of reports) {
    corrected.add(hdr.decodeFromCompressedBase64(report.histogram));
    raw.add(hdr.decodeFromCompressedBase64(report.rawHistogram));
  }
  const byRoom = new Map<string, Array<{ sender: string; seq: number }>>();
  for (const m of okMessages) (byRoom.get(m.room) ?? byRoom.set(m.room, []).get(m.room)!).push(m);
  let expected = 0;
  let delivered = 0;
  let duplicates = 0;
  let typingEvents = 0;
  for (const client of reports.flatMap((r) => r.clients)) {
    typingEvents += client.typingEvents;
    const wanted = byRoom.get(client.room) ?? [];
    expected += wanted.length;
    const got = new Map<string, Set<number>>();
    for (const [sender, seqs] of Object.entries(client.received)) {
      const unique = new Set(seqs);
      duplicates += seqs.length - unique.size;
      got.set(sender, unique);
    }
    for (const m of wanted) if (got.get(m.sender)?.has(m.seq)) delivered++;
  }
  const membersPerRoom = spec.clients / spec.rooms;
  const typingOut = typingEvents / membersPerRoom;
  return {
    name: spec.name,
    transport: spec.transport,
    clients: spec.clients,
    rooms: spec.rooms,
    rate: spec.rate,
    seconds: spec.seconds,
    posted,
    postErrors,
    expected,
    delivered,
    lost: expected - delivered,
    duplicates,
    latencyMs: percentiles(corrected),
    rawLatencyMs: percentiles(raw),
    typing: spec.typing
      ? {
          posted: typingPosted,
          deliveredPerMember: Math.round(typingOut),
          reductionPercent: Math.round((1 - typingOut / Math.max(1, typingPosted)) * 1000) / 10,
        }
      : undefined,
    connectMs,
  };
}

function percentiles(histogram: hdr.Histogram): Percentiles {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p95: ms(histogram.getValueAtPercentile(95)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
    count: histogram.totalCount,
  };
}

interface WorkerReport {
  histogram: string;
  rawHistogram: string;
  clients: ClientReport[];
}

interface Worker {
  connectMs: number;
  report(): Promise<WorkerReport>;
  close(): Promise<void>;
}

async function startWorkers(spec: ScenarioSpec, clients: ClientSpec[]): Promise<Worker[]> {
  const expectedIntervalMs = (1000 * spec.rooms) / spec.rate;
  return Promise.all(
    Array.from({ length: spec.workers }, async (_, index) => {
      const child: ChildProcess = fork(join(__dirname, 'client-worker.ts'), [], {
        cwd: ROOT,
        execArgv: ['-r', '@swc-node/register'],
        env: { ...process.env, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const next = (event: WorkerMessage['event']) =>
        new Promise<WorkerMessage>((resolve, reject) => {
          const onMessage = (message: WorkerMessage) => {
            if (message.event === 'error') reject(new Error(`client worker ${index}: ${message.message}`));
            else if (message.event === event) {
              child.off('message', onMessage);
              resolve(message);
            }
          };
          child.on('message', onMessage);
          child.once('exit', (code) => reject(new Error(`client worker ${index} exited (${code})`)));
        });
      const command = (c: WorkerCommand) => child.send(c);
      const mine = clients.filter((_, i) => i % spec.workers === index);
      const connecting = next('connected');
      command({
        cmd: 'connect',
        hubUrl: spec.hubUrl,
        clients: mine,
        expectedIntervalMs,
        protocol: spec.protocol ?? 'json',
      });
      const connected = (await connecting) as Extract<WorkerMessage, { event: 'connected' }>;
      if (connected.failed > 0)
        throw new Error(`client worker ${index}: ${connected.failed} clients failed to connect`);
      return {
        connectMs: connected.ms,
        report: async () => {
          const reporting = next('report');
          command({ cmd: 'report' });
          return (await reporting) as Extract<WorkerMessage, { event: 'report' }>;
        },
        close: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          command({ cmd: 'close' });
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        },
      };
    }),
  );
}
