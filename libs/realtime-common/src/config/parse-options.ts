import { z } from 'zod';
import { InvalidRealtimeConfigError } from '../invalid-realtime-config.error';
import type { SettingSources } from './options-from-env';
import { walkSchema } from './schema-walk';

/**
 * Applies the schema's defaults and bounds. The first problem throws `InvalidRealtimeConfigError` naming the
 * environment variable that set the value (when `sources` knows it) or else the option's path.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, sources?: SettingSources): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // A list's element (`httpBridge.urls.1`) is reported as the list's setting, with the element as the value.
  const settingPath = issue.path.filter((key) => typeof key === 'string').join('.');
  const name = sources?.get(settingPath);
  const setting = name ? `${name} (${settingPath})` : settingPath || '(options)';
  throw new InvalidRealtimeConfigError(
    setting,
    valueAt(input, issue.path),
    rangeOf(schema, settingPath) ?? describe(issue),
  );
}

/** "an integer between 1 and 1024": both bounds at once, whichever one the value crossed. */
function rangeOf(schema: z.ZodType, path: string): string | undefined {
  let range: string | undefined;
  walkSchema(schema, {
    leaf: (leaf) => {
      if (leaf.path.join('.') !== path || !(leaf.inner instanceof z.ZodNumber)) return;
      const { minValue, maxValue, isInt } = leaf.inner;
      range = `${isInt ? 'an integer' : 'a number'} between ${minValue} and ${maxValue}`;
    },
  });
  return range;
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return issue.origin === 'array' ? `a list of at least ${issue.minimum}` : `at least ${issue.minimum}`;
    case 'too_big':
      return `at most ${issue.maximum}`;
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `${article(issue.expected)} ${issue.expected}`;
    default:
      return issue.message.replace(/^expected /, '');
  }
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return typeof node === 'function' ? '(function)' : node;
}
