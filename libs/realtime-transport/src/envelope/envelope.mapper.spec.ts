import type { RealtimeEventOptions } from '../decorators/realtime-event.decorator';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large.error';
import { InvalidEnvelopeError } from '../errors/invalid-envelope.error';
import { EnvelopeMapper } from './envelope.mapper';
import { EnvelopeValidator, toAll, toGroup, toUser } from '@realtime-streams/contracts';
import { EventIdGenerator } from './event-id.generator';

class MessageCreated {
  constructor(
    readonly roomId: string,
    readonly text: string,
  ) {}
}

const toRoom: RealtimeEventOptions<MessageCreated> = {
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (event) => toGroup(`room:${event.roomId}`),
};

describe('EnvelopeMapper', () => {
  const validator = new EnvelopeValidator();
  const limits = { maxArgsBytes: 1024, maxArgsDepth: 32 };
  const mapper = new EnvelopeMapper(validator, new EventIdGenerator(), limits, () => 1_732_710_000_123.456);

  it('maps an event to a valid envelope serialized once, matching its object form', () => {
    const outbound = mapper.map(new MessageCreated('42', 'hi'), toRoom);
    expect(outbound.envelope).toMatchObject({
      v: 1,
      type: 'chat.message.created',
      target: { kind: 'group', name: 'room:42' },
      method: 'ReceiveMessage',
      args: [{ roomId: '42', text: 'hi' }],
      ts: 1_732_710_000_123.456,
      volatile: false,
    });
    expect(outbound.envelope.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const parsed = JSON.parse(outbound.json);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(outbound.envelope)));
    expect(validator.validate(parsed)).toEqual({ valid: true });
    expect(outbound.targetKey).toBe('group:room:42');
  });

  it('uses the class name as type and the event as the only argument by default', () => {
    const outbound = mapper.map(new MessageCreated('1', 'x'), { method: 'M', to: () => toAll() });
    expect(outbound.envelope.type).toBe('MessageCreated');
    expect(JSON.parse(outbound.json).args).toEqual([{ roomId: '1', text: 'x' }]);
    expect(outbound.targetKey).toBe('all');
  });

  it('marks coalesced events volatile and keeps their coalescing key', () => {
    const outbound = mapper.map(new MessageCreated('1', 'x'), {
      method: 'UserTyping',
      to: (e) => toUser(e.roomId),
      coalesce: { key: (e) => `${e.roomId}:u1` },
    });
    expect(outbound.envelope.volatile).toBe(true);
    expect(outbound.coalesceKey).toBe('1:u1');
    expect(outbound.targetKey).toBe('user:1');
  });

  it('refuses a target that breaks the contract, naming the field', () => {
    const map = () => mapper.map(new MessageCreated('1', 'x'), { method: 'M', to: () => ({ kind: 'room' }) as never });
    expect(map).toThrow(InvalidEnvelopeError);
    expect(map).toThrow(/"MessageCreated" is not a valid envelope: \/target/);
  });

  it('refuses an empty group name and a bad method name', () => {
    expect(() => mapper.map(new MessageCreated('', 'x'), { method: 'M', to: () => toGroup('') })).toThrow(/\/target/);
    expect(() => mapper.map(new MessageCreated('1', 'x'), { method: 'Receive Message', to: () => toAll() })).toThrow(
      /\/method must match pattern/,
    );
  });

  it('turns an exception of a mapping function into a named error', () => {
    const map = () =>
      mapper.map(new MessageCreated('1', 'x'), {
        method: 'M',
        to: () => {
          throw new Error('no room');
        },
      });
    expect(map).toThrow(InvalidEnvelopeError);
    expect(map).toThrow(/to\(\) threw: no room/);
  });

  it('refuses args that do not serialize', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() =>
      mapper.map(new MessageCreated('1', 'x'), { method: 'M', to: () => toAll(), args: () => [circular] }),
    ).toThrow(/args are nested deeper than 32 levels \(REALTIME_MAX_ARGS_DEPTH\), or refer to themselves/);
    expect(() =>
      mapper.map(new MessageCreated('1', 'x'), { method: 'M', to: () => toAll(), args: () => [1n] }),
    ).toThrow(InvalidEnvelopeError);
  });

  it('refuses args nested deeper than the bound before serializing them, naming the bound', () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const map = () =>
      mapper.map(new MessageCreated('1', 'x'), { method: 'M', type: 'deep', to: () => toAll(), args: () => deep });
    expect(map).toThrow(InvalidEnvelopeError);
    expect(map).toThrow(
      /"deep" is not a valid envelope: args are nested deeper than 32 levels \(REALTIME_MAX_ARGS_DEPTH\)/,
    );

    const shallow = new EnvelopeMapper(validator, new EventIdGenerator(), { maxArgsBytes: 1024, maxArgsDepth: 3 });
    const withArgs = (value: unknown) => () =>
      shallow.map(new MessageCreated('1', 'x'), { method: 'M', to: () => toAll(), args: () => [value] });
    expect(withArgs({ a: [1] })).not.toThrow();
    expect(withArgs({ a: [new Date(0)] })).not.toThrow(); // a Date serializes to a string: a leaf
    expect(withArgs({ a: [[1]] })).toThrow(/nested deeper than 3 levels/);
  });

  it('refuses args over the size limit with the type and size in the message', () => {
    const map = () => mapper.map(new MessageCreated('1', 'é'.repeat(600)), { ...toRoom });
    expect(map).toThrow(EnvelopeTooLargeError);
    expect(map).toThrow(/"chat.message.created" has 1226 bytes of serialized args, over the limit of 1024/);
  });

  it('accepts args right at the limit', () => {
    // [{"roomId":"1","text":"..."}] is 26 bytes plus the text.
    const outbound = mapper.map(new MessageCreated('1', 'a'.repeat(1024 - 26)), { ...toRoom });
    expect(Buffer.byteLength(JSON.stringify(outbound.envelope.args))).toBe(1024);
  });
});

describe('EnvelopeValidator', () => {
  const validator = new EnvelopeValidator();
  const valid = {
    v: 1,
    id: '0193f1c2-7d3a-7000-8000-000000000001',
    type: 'chat.message.created',
    target: { kind: 'group', name: 'room:42' },
    method: 'ReceiveMessage',
    args: [{ roomId: '42', text: 'hi' }],
    ts: 1732710000123.456,
    volatile: false,
  };

  it('accepts the envelope of the design document', () => {
    expect(validator.validate(valid)).toEqual({ valid: true });
    expect(validator.validate({ ...valid, target: { kind: 'user', id: '7' } })).toEqual({ valid: true });
    expect(validator.validate({ ...valid, target: { kind: 'all' } })).toEqual({ valid: true });
  });

  it.each([
    [{ ...valid, v: 2 }, /\/v must be equal to constant/],
    [{ ...valid, extra: 1 }, /must NOT have additional properties \(extra\)/],
    [{ ...valid, args: {} }, /\/args must be array/],
    [{ ...valid, ts: -1 }, /\/ts must be >= 0/],
    [{ ...valid, id: 'has space' }, /\/id must match pattern/],
    [(({ method: _m, ...rest }) => rest)(valid), /must have required property 'method' \(method\)/],
  ])('refuses %j, naming the field', (candidate, reason) => {
    const verdict = validator.validate(candidate);
    expect(verdict.valid).toBe(false);
    expect(!verdict.valid && verdict.reason).toMatch(reason);
  });
});
