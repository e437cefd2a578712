import { describeLayout, layoutField, parseLayouts, sameLayout, type StreamLayout } from './stream-layouts';

describe('stream layout announcements', () => {
  const layout: StreamLayout = { prefix: 'my app', shards: 16, keys: 'balanced' };

  it('reads back what it writes, a prefix with spaces included', () => {
    const field = layoutField('publisher', layout);
    expect(field).toBe('publisher shards=16 keys=balanced prefix=my app');
    expect(parseLayouts({ [field]: '1800000000000' })).toEqual([
      { role: 'publisher', layout, seenAt: 1_800_000_000_000, field },
    ]);
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
