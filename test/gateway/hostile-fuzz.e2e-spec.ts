import fc from 'fast-check';
import { type GatewayApp, RecordingLogger, startGatewayApp, tokenFor } from '../support/gateway-app';
import { TestClient } from '../support/signalr-client';
import { GatewayWatch, peakRssBytes } from './fuzz/gateway-watch';
import { type Attack, HostileClients, type Outcome } from './fuzz/hostile-clients';
import {
  hostileFrame,
  hostileHandshake,
  HostileFrame,
  hugeLengthFrame,
  type ProtocolName,
  servedFrame,
} from './fuzz/hostile-frames';

/**
 * Hostile clients cannot hurt a gateway: random and mutated frames, over every transport and both hub protocols,
 * before and after the handshake, against a real gateway. After each frame the gateway must have answered under 500
 * and logged no ERROR; after each batch it must answer negotiate, serve its stock bystanders, and hold no more
 * memory than its documented bounds for the hostile connections still open.
 *
 * The seed changes from run to run (more inputs over time); fast-check prints it with the smallest failing input,
 * and FUZZ_SEED=<seed> replays a run. It is also written once at the start, for a run the process does not survive.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
process.stderr.write(`hostile-fuzz: seed ${SEED} (replay with FUZZ_SEED=${SEED})\n`);
/** FUZZ_SCALE=<n> multiplies the runs and the time of every batch, for a longer hunt than CI affords. */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE) || 1);

const MAX_MESSAGE_BYTES = 4096;
const HARD_LIMIT_BYTES = 32 * 1024;
const SESSION_BUFFER_BYTES = 32 * 1024;
/** Each batch stops taking new inputs after this (a loaded CI box gets fewer runs, not a longer suite). */
const BATCH_TIME_MS = 9000 * SCALE;
/** A batch's time, then the checks after it (and shrinking, when it failed: also cut at the batch time). */
const TEST_TIMEOUT_MS = 2 * BATCH_TIME_MS + 30_000;
const MB = 1024 * 1024;
/** No single input may make the process's peak resident memory rise more than this. */
const INPUT_PEAK_RISE_BYTES = 64 * MB;
/** A batch that managed fewer runs than this did not fuzz anything worth the name. */
const MIN_RUNS = 10;

describe('hostile clients: fuzzed frames against a real gateway', () => {
  const logs = new RecordingLogger();
  let gw: GatewayApp;
  let bystanders: TestClient[];
  let clients: HostileClients;
  let watch: GatewayWatch;

  beforeAll(async () => {
    gw = await startGatewayApp(
      {
        hub: { maxMessageBytes: MAX_MESSAGE_BYTES, longPollTimeoutMs: 200 },
        slowClients: { softLimitBytes: 8 * 1024, hardLimitBytes: HARD_LIMIT_BYTES },
        envelopes: { maxArgsBytes: 8 * 1024 },
        statefulReconnect: { bufferBytes: SESSION_BUFFER_BYTES, windowMs: 5000 },
      },
      undefined,
      { logger: logs },
    );
    bystanders = await Promise.all(
      (['json', 'messagepack'] as const).map((protocol) =>
        new TestClient(gw.hubUrl, tokenFor(`bystander-${protocol}`), { protocol }).start(),
      ),
    );
    await Promise.all(bystanders.map((b) => b.connection.invoke('JoinGroup', 'watch')));
    clients = new HostileClients(gw);
    watch = new GatewayWatch(gw, logs, bystanders, {
      // A hostile connection may hold its unread output up to the hard bound, a frame up to 4 times the message
      // bound (the WebSocket payload and POST body limits), a session's unacknowledged messages, and its own
      // bookkeeping.
      perConnectionBytes: HARD_LIMIT_BYTES + 4 * MAX_MESSAGE_BYTES + SESSION_BUFFER_BYTES + 16 * 1024,
      slackBytes: 64 * MB,
      peakRiseBytes: 256 * MB,
    });
  });

  afterAll(async () => {
    await clients?.releaseAll();
    await Promise.all((bystanders ?? []).map((b) => b.stop()));
    await gw?.close();
  });

  /** Runs `attack` on each input; each run must end with no 5xx and no ERROR line; the batch with a well gateway. */
  async function fuzz<T>(inputs: fc.Arbitrary<T>, attack: (input: T) => Promise<void>, numRuns: number) {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(inputs, async (input) => {
        runs++;
        const faultsBefore = clients.serverFaults().length;
        const errorsBefore = watch.errorLines().length;
        const peakBefore = peakRssBytes();
        await attack(input);
        expect(clients.serverFaults().slice(faultsBefore)).toEqual([]);
        expect(watch.errorLines().slice(errorsBefore)).toEqual([]);
        // What one input makes the gateway allocate, even for a moment. The peak only moves when passed: this
        // catches an input once (shrinking cannot pass the peak again, so fast-check reports the input as it came).
        const peakRise = peakRssBytes() - peakBefore;
        if (peakRise > INPUT_PEAK_RISE_BYTES)
          throw new Error(`the process's peak memory rose by ${Math.round(peakRise / MB)} MB on this input`);
      }),
      { seed: SEED, numRuns: numRuns * SCALE, plugins: [fc.interruptAfterTimeLimit(BATCH_TIME_MS)] },
    );
    expect(runs).toBeGreaterThanOrEqual(MIN_RUNS);
    await watch.check(clients.heldConnections);
    await clients.releaseAll();
  }

  /** Frames the gateway serves, then (mostly) hostile ones: these hit a connection with groups, ids, a session. */
  const frames = (protocol: ProtocolName) =>
    fc.oneof(
      { weight: 2, arbitrary: fc.array(servedFrame(protocol), { minLength: 1, maxLength: 4 }) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(
            fc.array(servedFrame(protocol), { maxLength: 3 }),
            fc.array(hostileFrame(protocol, MAX_MESSAGE_BYTES), { minLength: 1, maxLength: 2 }),
          )
          .map(([served, hostile]) => [...served, ...hostile]),
      },
    );

  /**
   * Frames after a handshake (mostly), or a hostile handshake first. With `sessions`, a third of the clients
   * negotiate stateful reconnect (handshake version 2: acks and sequence messages mean something then), and another
   * third also drop their socket afterwards and resume the session with more frames.
   */
  const attacks = (protocol: ProtocolName, sessions = false): fc.Arbitrary<Attack> => {
    const plain = fc.oneof(
      { weight: 3, arbitrary: frames(protocol).map((list) => ({ protocol, handshakeFirst: true, frames: list })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(hostileHandshake(protocol, MAX_MESSAGE_BYTES), fc.array(servedFrame(protocol), { maxLength: 2 }))
          .map(([first, rest]) => ({ protocol, handshakeFirst: false, frames: [first, ...rest] })),
      },
    );
    if (!sessions) return plain;
    return fc
      .tuple(plain, fc.constantFrom('plain', 'stateful', 'resumed'), frames(protocol))
      .map(([attack, kind, resumeFrames]) =>
        kind === 'plain'
          ? attack
          : kind === 'stateful'
            ? { ...attack, stateful: true }
            : { ...attack, stateful: true, resumeFrames },
      );
  };

  it(
    'JSON hub protocol over WebSockets: text and binary frames',
    async () => {
      await fuzz(attacks('json', true), async (attack) => void (await clients.webSocket(attack)), 400);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'MessagePack hub protocol over WebSockets: binary and text frames',
    async () => {
      await fuzz(attacks('messagepack', true), async (attack) => void (await clients.webSocket(attack)), 400);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'long polling: POST bodies as text and application/octet-stream, JSON and MessagePack',
    async () => {
      await fuzz(
        fc.oneof(attacks('json', true), attacks('messagepack', true)),
        async (attack) => void (await clients.longPolling(attack)),
        250,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Server-Sent Events: POST bodies as text and application/octet-stream',
    async () => {
      await fuzz(attacks('json'), async (attack) => void (await clients.serverSentEvents(attack)), 300);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'MessagePack lengths declared far past the frame (arrays, maps, strings, binaries, nested)',
    async () => {
      const inputs = fc.record({
        transport: fc.constantFrom('WebSockets', 'LongPolling'),
        frames: fc.array(
          hugeLengthFrame.map(({ bytes, origin }) => new HostileFrame(bytes, true, origin)),
          { minLength: 1, maxLength: 3 },
        ),
      });
      await fuzz(
        inputs,
        async ({ transport, frames }) => {
          const attack: Attack = { protocol: 'messagepack', handshakeFirst: true, frames };
          const outcome = await (transport === 'WebSockets' ? clients.webSocket(attack) : clients.longPolling(attack));
          // Each of these is refused: the client is closed with the reason.
          expect(outcome.how).toBe('closed');
        },
        250,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'closes a client whose frame is over the message bound, with the reason, and only that client',
    async () => {
      const inputs = fc.record({
        transport: fc.constantFrom('WebSockets', 'LongPolling', 'ServerSentEvents'),
        protocol: fc.constantFrom<ProtocolName>('json', 'messagepack'),
        size: fc.integer({ min: MAX_MESSAGE_BYTES + 1, max: 4 * MAX_MESSAGE_BYTES }),
        // ASCII: a text WebSocket message must be UTF-8, or ws closes it (1007) before the hub sees it.
        fill: fc.integer({ min: 0, max: 127 }),
      });
      await fuzz(
        inputs,
        async ({ transport, protocol, size, fill }) => {
          const frame = new HostileFrame(Buffer.alloc(size, fill), protocol === 'messagepack', `${size} bytes`);
          const attack: Attack = {
            protocol: transport === 'ServerSentEvents' ? 'json' : protocol,
            handshakeFirst: true,
            frames: [frame],
          };
          const outcome: Outcome =
            transport === 'WebSockets'
              ? await clients.webSocket(attack)
              : transport === 'LongPolling'
                ? await clients.longPolling(attack)
                : await clients.serverSentEvents(attack);
          expect(outcome.how).toBe('closed');
          expect(outcome.tail.toString('latin1')).toContain(
            `Message of ${size} bytes is over the limit of ${MAX_MESSAGE_BYTES}`,
          );
        },
        150,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
