import { compareStreamIds } from './stream-ids';

describe('compareStreamIds', () => {
  it('compares both parts as numbers', () => {
    expect(compareStreamIds('10-0', '9-0')).toBe(1);
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('5-10', '5-9')).toBe(1);
    expect(compareStreamIds('5-3', '5-3')).toBe(0);
    expect(compareStreamIds('1796245870169-0', '1796245870237-0')).toBe(-1);
    expect(compareStreamIds('0-0', '1796245870237-5')).toBe(-1);
  });
});
