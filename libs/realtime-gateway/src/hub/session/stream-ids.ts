/**
 * Stream entry ids (`<ms>-<seq>`) compared as numbers, not strings ("10-0" > "9-0"). Runs for every entry the
 * consumer reads, so it compares digits in place: Redis writes both parts without leading zeros, so the longer
 * number is the larger and equal lengths compare character by character.
 */
export function compareStreamIds(a: string, b: string): number {
  const aDash = dashOf(a);
  const bDash = dashOf(b);
  return compareDigits(a, 0, aDash, b, 0, bDash) || compareDigits(a, aDash + 1, a.length, b, bDash + 1, b.length);
}

function dashOf(id: string): number {
  const dash = id.indexOf('-');
  return dash < 0 ? id.length : dash;
}

function compareDigits(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): number {
  const aLength = Math.max(0, aEnd - aStart);
  const bLength = Math.max(0, bEnd - bStart);
  if (aLength !== bLength) return aLength < bLength ? -1 : 1;
  for (let i = 0; i < aLength; i++) {
    const difference = a.charCodeAt(aStart + i) - b.charCodeAt(bStart + i);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}
