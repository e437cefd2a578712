import { describeLayout, layoutField, parseLayouts, sameLayout, type StreamLayout } from './stream-layouts';

describe('stream layout announcements', () => {
  const layout: StreamLayout = { prefix: 'my app', shards: 16, keys: 'balanced' };

  it('reads back what it writes, a prefix with spaces included', () => {
    const field = layoutField('publisher', layout);
    expect(field).toBe('publisher shards=16 keys=balanced targets=split prefix=my app');
    expect(parseLayouts({ [field]: '1800000000000' })).toEqual([
      { role: 'publisher', layout: { ...layout, targets: 'split' }, seenAt: 1_800_000_000_000, field },
    ]);
  });

  it("reads 0.3's announcements, which map every target over every shard, as another mapping", () => {
    const [old] = parseLayouts({ 'publisher shards=16 keys=numbered prefix=rt': '1' });
    expect(old.layout).toEqual({ prefix: 'rt', shards: 16, keys: 'numbered', targets: 'hashed' });
    expect(sameLayout({ prefix: 'rt', shards: 16, keys: 'numbered' }, old.layout)).toBe(false);
    expect(describeLayout(old.layout)).toBe('prefix=rt shards=16 targets=hashed');
    // Below 16 shards both map the same way.
    const [few] = parseLayouts({ 'publisher shards=8 keys=numbered prefix=rt': '1' });
    expect(sameLayout({ prefix: 'rt', shards: 8, keys: 'numbered' }, few.layout)).toBe(true);
  });

  it("skips fields it cannot read (another version's)", () => {
    expect(
      parseLayouts({ 'publisher v2 {"prefix":"x"}': '1', 'gateway shards=1 keys=numbered prefix=x': 'soon' }),
    ).toEqual([]);
  });

  it('shows a layout the way messages name it', () => {
    expect(describeLayout({ prefix: 'rt', shards: 16, keys: 'numbered' })).toBe('prefix=rt shards=16');
    expect(describeLayout(layout)).toBe('prefix=my app shards=16 keys=balanced');
    expect(sameLayout(layout, { ...layout })).toBe(true);
    expect(sameLayout(layout, { ...layout, keys: 'numbered' })).toBe(false);
  });
});
