import { z } from 'zod';
import { InvalidRealtimeConfigError } from '../invalid-realtime-config.error';
import { UnknownRealtimeOptionError } from '../unknown-realtime-option.error';
import { expectedOf, numberRange } from './issue-words';
import type { SettingSources } from './options-from-env';
import { fixHint, leafAt, settingLabel } from './setting-label';
import { findUnknownOption } from './unknown-options';

/**
 * Applies the schema's defaults and bounds. The first problem throws `InvalidRealtimeConfigError` naming the
 * environment variable and the option path (the one the value came from first, when `sources` knows it), saying
 * in plain words what was expected and how to fix it. A key the schema does not know throws
 * `UnknownRealtimeOptionError` with the nearest option: zod alone would drop it without a word.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, sources?: SettingSources): z.output<S> {
  const unknown = findUnknownOption(schema, input ?? {});
  if (unknown) throw new UnknownRealtimeOptionError(unknown.path, unknown.suggestion, unknown.valid);
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // A list's element (`httpBridge.urls.1`) is reported as the list's setting, with the element as the value.
  const settingPath = issue.path.filter((key) => typeof key === 'string').join('.');
  const leaf = leafAt(schema, settingPath);
  const source = sources?.get(settingPath);
  const listElement = issue.path.length > 0 && typeof issue.path[issue.path.length - 1] === 'number';
  const range = leaf?.inner instanceof z.ZodNumber && !listElement ? numberRange(leaf.inner) : undefined;
  throw new InvalidRealtimeConfigError(
    settingLabel(settingPath, source),
    valueAt(input, issue.path),
    range ?? expectedOf(issue),
    { secret: leaf?.meta.secret, fix: fixHint(settingPath, leaf, source) },
  );
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
