import { exceedsJsonDepth } from './json-depth';

describe('exceedsJsonDepth', () => {
  const nested = (depth: number, leaf: unknown = 0, wrap: (inner: unknown) => unknown = (inner) => [inner]) => {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = wrap(value);
    return value;
  };

  it('counts arrays and objects as levels, primitives as none', () => {
    expect(exceedsJsonDepth(1, 0)).toBe(false);
    expect(exceedsJsonDepth('text', 1)).toBe(false);
    expect(exceedsJsonDepth(null, 1)).toBe(false);
    expect(exceedsJsonDepth([], 1)).toBe(false);
    expect(exceedsJsonDepth([], 0)).toBe(true);
    expect(exceedsJsonDepth([{ a: 1 }], 1)).toBe(true);
    expect(exceedsJsonDepth([{ a: 1 }], 2)).toBe(false);
    expect(exceedsJsonDepth([{ a: [1, { b: 2 }] }], 3)).toBe(true);
    expect(exceedsJsonDepth([{ a: [1, { b: 2 }] }], 4)).toBe(false);
  });

  it('finds the one deep branch among shallow ones, in arrays and objects', () => {
    const wide = { shallow: [1, 2, 3], also: { x: 'y' }, deep: nested(10, 'leaf', (inner) => ({ inner })) };
    expect(exceedsJsonDepth(wide, 11)).toBe(false);
    expect(exceedsJsonDepth(wide, 10)).toBe(true);
    expect(exceedsJsonDepth([[1], [[2]], [[[nested(5)]]]], 9)).toBe(false);
    expect(exceedsJsonDepth([[1], [[2]], [[[nested(5)]]]], 8)).toBe(true);
  });

  it('checks 100,000 levels without overflowing the stack, and a cycle counts as too deep', () => {
    const deep = nested(100_000);
    expect(() => JSON.stringify(deep)).toThrow(RangeError); // what it protects from
    expect(exceedsJsonDepth(deep, 32)).toBe(true);
    expect(exceedsJsonDepth(deep, 100_000)).toBe(false);
    const parsed: unknown = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(exceedsJsonDepth(parsed, 32)).toBe(true);
    const cycle: Record<string, unknown> = {};
    cycle.self = [cycle];
    expect(exceedsJsonDepth([cycle], 32)).toBe(true);
  });

  it('treats objects with toJSON (Date) as leaves, like JSON.stringify', () => {
    expect(exceedsJsonDepth([new Date(0)], 1)).toBe(false);
    expect(exceedsJsonDepth([{ toJSON: () => 'x', deep: nested(100) }], 1)).toBe(false);
  });

  it('is quick on a wide, shallow value (one pass, no recursion)', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i, tags: ['a', 'b'], meta: { n: i } }));
    const started = performance.now();
    for (let i = 0; i < 10; i++) expect(exceedsJsonDepth([rows], 32)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
