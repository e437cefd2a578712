/**
 * Whether `value` nests arrays and objects deeper than `maxDepth` levels (`1` is depth 0, `[]` depth 1, `[{}]` depth
 * 2). Iterative with an explicit stack: JSON.stringify and anything else recursive overflows the call stack on
 * hostile input (100,000 levels), so this runs first and stops at the first path past the bound. A cycle counts as
 * too deep. Objects with `toJSON` (Date, ...) are leaves: JSON.stringify serializes what they return.
 *
 * It runs on every envelope, so it allocates nothing per node: one stack of (value, depth) pairs, `for...in` rather
 * than `Object.values` (four times faster here; it also sees inherited enumerable keys, which only makes it stricter).
 */
export function exceedsJsonDepth(value: unknown, maxDepth: number): boolean {
  if (!isContainer(value)) return false;
  if (maxDepth < 1) return true;
  const stack: unknown[] = [value, 1];
  while (stack.length > 0) {
    const childDepth = (stack.pop() as number) + 1;
    const node = stack.pop() as Record<string, unknown> | unknown[];
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child = node[i];
        if (!isContainer(child)) continue;
        if (childDepth > maxDepth) return true;
        stack.push(child, childDepth);
      }
    } else {
      for (const key in node) {
        const child = node[key];
        if (!isContainer(child)) continue;
        if (childDepth > maxDepth) return true;
        stack.push(child, childDepth);
      }
    }
  }
  return false;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}
