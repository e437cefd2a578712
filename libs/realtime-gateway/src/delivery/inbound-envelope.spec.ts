import { ENTRY_OVERHEAD_ALLOWANCE, InboundEnvelopeReader } from './inbound-envelope';

describe('InboundEnvelopeReader', () => {
  const reader = new InboundEnvelopeReader({ maxArgsBytes: 1024, maxArgsDepth: 4 });
  const envelope = (args: unknown) => ({
    v: 1,
    id: 'e1',
    type: 't',
    target: { kind: 'all' },
    method: 'M',
    args,
    ts: 1,
    volatile: false,
  });
  const json = (argsJson: string) => JSON.stringify(envelope([])).replace('"args":[]', `"args":${argsJson}`);

  it('passes a valid envelope with its args serialized once, for delivery', () => {
    expect(reader.check(envelope([{ a: [1] }]))).toEqual({
      ok: true,
      envelope: envelope([{ a: [1] }]),
      argsJson: '[{"a":[1]}]',
    });
    expect(reader.fromJson(json('[ 1, 2 ]'))).toMatchObject({ ok: true, argsJson: '[1,2]' });
  });

  it('refuses args over the cap in UTF-8 bytes, naming the size and the bound', () => {
    expect(reader.check(envelope(['a'.repeat(1024 - 4)]))).toMatchObject({ ok: true }); // ["..."] is exactly 1024
    expect(reader.check(envelope(['a'.repeat(1024 - 3)]))).toEqual({
      ok: false,
      rejection: 'too_large',
      reason: 'args are 1025 bytes, over the limit of 1024 bytes (envelopes.maxArgsBytes, REALTIME_MAX_ARGS_BYTES)',
    });
    // 400 characters, 800 bytes of UTF-8 fit; 600 (1200 bytes) do not.
    expect(reader.check(envelope(['é'.repeat(400)]))).toMatchObject({ ok: true });
    expect(reader.check(envelope(['é'.repeat(600)]))).toMatchObject({ ok: false, rejection: 'too_large' });
  });

  it('refuses args nested past the bound before serializing them', () => {
    expect(reader.check(envelope([[[1]]]))).toMatchObject({ ok: true }); // the args array is level 1: 4 levels
    expect(reader.fromJson(json('[[[[[1]]]]]'))).toEqual({
      ok: false,
      rejection: 'too_deep',
      reason: 'args are nested deeper than 4 levels (envelopes.maxArgsDepth, REALTIME_MAX_ARGS_DEPTH)',
    });
    const parsed: unknown = JSON.parse(json('['.repeat(100_000) + ']'.repeat(100_000)));
    const stringify = jest.spyOn(JSON, 'stringify');
    const deep = reader.check(parsed);
    const serialized = stringify.mock.calls.length;
    stringify.mockRestore();
    expect(deep).toMatchObject({ ok: false, rejection: 'too_deep' });
    expect(serialized).toBe(0);
  });

  it('refuses a stream entry longer than the cap plus the allowance without parsing it', () => {
    const parse = jest.spyOn(JSON, 'parse');
    const huge = json(JSON.stringify(['x'.repeat(100 * 1024 * 1024)]));
    const verdict = reader.fromJson(huge);
    const parsed = parse.mock.calls.length;
    parse.mockRestore();
    expect(parsed).toBe(0);
    expect(verdict).toMatchObject({ ok: false, rejection: 'too_large' });
    expect(!verdict.ok && verdict.reason).toMatch(/^entry is \d+ characters, .* not parsed$/);
    // Just within the allowance: parsed, then refused for its args.
    expect(reader.fromJson(json(JSON.stringify(['x'.repeat(1024 + ENTRY_OVERHEAD_ALLOWANCE / 2)])))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^args are \d+ bytes/),
    });
  });

  it('refuses what is not an envelope as invalid, naming the field', () => {
    expect(reader.fromJson('{oops')).toEqual({ ok: false, reason: 'not JSON', rejection: 'invalid' });
    expect(reader.check(1)).toMatchObject({ ok: false, rejection: 'invalid', reason: '(envelope) must be object' });
    expect(reader.check({ ...envelope([]), args: {} })).toMatchObject({ ok: false, reason: '/args must be array' });
  });
});
