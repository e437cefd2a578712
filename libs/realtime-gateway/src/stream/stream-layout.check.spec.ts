import { Logger } from '@nestjs/common';
import type { AnnouncedLayout, LayoutRole, StreamLayout } from '@realtime-streams/common';
import { StreamLayoutCheck } from './stream-layout.check';

const NOW = 1_800_000_000_000;
const own: StreamLayout = { prefix: 'realtime', shards: 8, keys: 'numbered' };

function announced(role: LayoutRole, layout: Partial<StreamLayout>, agoMs = 1000): AnnouncedLayout {
  return { role, layout: { ...own, ...layout }, seenAt: NOW - agoMs, field: `${role} ${JSON.stringify(layout)}` };
}

describe('StreamLayoutCheck', () => {
  let check: StreamLayoutCheck;
  let errors: string[];
  let logs: string[];

  beforeEach(() => {
    check = new StreamLayoutCheck(own);
    errors = [];
    logs = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
    jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => void logs.push(String(message)));
  });

  afterEach(() => jest.restoreAllMocks());

  it('reports publishers that all write another layout, naming both sides, once', () => {
    const publishers = [announced('publisher', { prefix: 'rt', shards: 16 })];
    check.judge(publishers, NOW);
    check.judge(publishers, NOW + 5000);
    const expected =
      'Publishers on this Redis write layout prefix=rt shards=16; this gateway reads prefix=realtime shards=8: ' +
      'nothing they publish reaches its clients. Set REALTIME_STREAM_KEY_PREFIX / REALTIME_STREAM_SHARDS alike on both.';
    expect(check.mismatch).toBe(expected);
    expect(errors).toEqual([expected]);
  });

  it('lists every layout written, and says when the key layout differs too', () => {
    check.judge(
      [
        announced('publisher', { shards: 4, keys: 'balanced' }),
        announced('publisher', { prefix: 'app', keys: 'balanced' }),
        announced('publisher', { prefix: 'app', keys: 'balanced' }),
      ],
      NOW,
    );
    expect(check.mismatch).toMatch(
      /^Publishers on this Redis write layout prefix=app shards=8 keys=balanced, prefix=realtime shards=4 keys=balanced; this gateway reads prefix=realtime shards=8: .* and REDIS_CLUSTER_NODES on both or neither \(the key layout differs\)\.$/,
    );
  });

  it.each([
    ['no publisher at all', []],
    ['only gateways, whatever their layout', [announced('gateway', { prefix: 'other' })]],
    [
      'a publisher with this layout among others',
      [announced('publisher', { prefix: 'rt' }), announced('publisher', {})],
    ],
    ['publishers of another layout not seen for over 30 s', [announced('publisher', { prefix: 'rt' }, 31_000)]],
  ])('says nothing for %s', (_case, entries) => {
    check.judge(entries, NOW);
    expect(check.mismatch).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('clears when a publisher of this layout appears, and says so', () => {
    check.judge([announced('publisher', { prefix: 'rt' })], NOW);
    expect(check.mismatch).toBeDefined();
    check.judge([announced('publisher', { prefix: 'rt' }), announced('publisher', {})], NOW + 5000);
    expect(check.mismatch).toBeUndefined();
    expect(logs).toEqual(['Stream layouts agree again: publishers on this Redis write prefix=realtime shards=8']);
  });
});
