import { MAX_GAVE_UP_TARGETS, parseBridgeBody } from './bridge-body';

const envelope = { v: 1, id: 'a' };

describe('parseBridgeBody', () => {
  it('takes the legacy array of envelopes as it is', () => {
    expect(parseBridgeBody(JSON.stringify([envelope]))).toEqual({ ok: true, envelopes: [envelope], gaveUp: [] });
    expect(parseBridgeBody('[]')).toEqual({ ok: true, envelopes: [], gaveUp: [] });
  });

  it('takes { envelopes, gaveUp } with group, user and all targets', () => {
    const gaveUp = [{ kind: 'group', name: 'room:1' }, { kind: 'user', id: 'u1' }, { kind: 'all' }];
    expect(parseBridgeBody(JSON.stringify({ envelopes: [envelope], gaveUp }))).toEqual({
      ok: true,
      envelopes: [envelope],
      gaveUp,
    });
    expect(parseBridgeBody('{"envelopes":[]}')).toEqual({ ok: true, envelopes: [], gaveUp: [] });
  });

  it.each([
    ['not JSON', '{', 'not_json', /body is not JSON/],
    ['a number', '42', 'malformed', /JSON array of envelopes or \{ "envelopes"/],
    ['null', 'null', 'malformed', /JSON array of envelopes/],
    ['envelopes missing', '{"gaveUp":[]}', 'malformed', /envelopes is not an array/],
    ['an unknown field', '{"envelopes":[],"extra":1}', 'malformed', /unknown field "extra"/],
    ['gaveUp not an array', '{"envelopes":[],"gaveUp":{}}', 'bad_report', /gaveUp must be an array of targets/],
    ['a target not an object', '{"envelopes":[],"gaveUp":["room:1"]}', 'bad_report', /gaveUp\[0\] is not a target/],
    ['an unknown kind', '{"envelopes":[],"gaveUp":[{"kind":"room"}]}', 'bad_report', /kind must be group, user or all/],
    [
      'a group without a name',
      '{"envelopes":[],"gaveUp":[{"kind":"group","id":"x"}]}',
      'bad_report',
      /gaveUp\[0\] kind group takes exactly one other field, name/,
    ],
    [
      'a user with an extra field',
      '{"envelopes":[],"gaveUp":[{"kind":"all"},{"kind":"user","id":"u","x":1}]}',
      'bad_report',
      /gaveUp\[1\] kind user takes exactly one other field, id/,
    ],
    ['all with a field', '{"envelopes":[],"gaveUp":[{"kind":"all","name":"x"}]}', 'bad_report', /takes no other field/],
    ['an empty name', '{"envelopes":[],"gaveUp":[{"kind":"group","name":""}]}', 'bad_report', /1 to 256 characters/],
    [
      'a name too long',
      JSON.stringify({ envelopes: [], gaveUp: [{ kind: 'group', name: 'x'.repeat(257) }] }),
      'bad_report',
      /1 to 256 characters/,
    ],
  ])('refuses %s, saying what is wrong', (_what, body, refusal, error) => {
    const parsed = parseBridgeBody(body);
    expect(parsed).toMatchObject({ ok: false, refusal });
    expect(parsed.ok ? '' : parsed.error).toMatch(error);
  });

  it(`refuses more than ${MAX_GAVE_UP_TARGETS} targets`, () => {
    const gaveUp = Array.from({ length: MAX_GAVE_UP_TARGETS + 1 }, (_, i) => ({ kind: 'group', name: `r${i}` }));
    const parsed = parseBridgeBody(JSON.stringify({ envelopes: [], gaveUp }));
    expect(parsed).toMatchObject({ ok: false, refusal: 'bad_report' });
    expect(parsed.ok ? '' : parsed.error).toMatch(/more than 1000 \(send \{ "kind": "all" \} instead\)/);
    gaveUp.pop();
    expect(parseBridgeBody(JSON.stringify({ envelopes: [], gaveUp })).ok).toBe(true);
  });
});
