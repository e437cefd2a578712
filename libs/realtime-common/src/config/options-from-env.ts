import { z } from 'zod';
import type { Env } from '../env';
import { InvalidRealtimeConfigError } from '../invalid-realtime-config.error';
import { numberRange } from './issue-words';
import { type SettingLeaf, walkSchema } from './schema-walk';
import { envFixHint } from './setting-label';

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
const BOOLEAN_WORDS = 'set it to true or false (1/0, yes/no and on/off work too)';

/** Where each option came from: the environment variable that set it, by option path. */
export type SettingSources = Map<string, string>;

/**
 * The options the environment sets, as the schema's input (nothing defaulted here: the schema does that). A
 * variable is coerced by the type of its setting: booleans from true/false/1/0/yes/no/on/off, numbers with
 * `Number()`, lists split on commas. A value that cannot be coerced throws, naming the variable.
 */
export function optionsFromEnv(schema: z.ZodType, env: Env, sources: SettingSources = new Map()): object {
  const result: Record<string, unknown> = {};
  // Sections the environment leaves out; their settings (and sections) are skipped.
  const absent: string[] = [];
  const insideAbsent = (key: string) => absent.some((prefix) => key.startsWith(prefix + '.'));
  walkSchema(schema, {
    section: ({ path, meta }) => {
      const key = path.join('.');
      if (insideAbsent(key)) return absent.push(key);
      if (meta?.toggle !== undefined) {
        const on = readToggle(env, meta.toggle, key) ?? meta.toggleDefault ?? true;
        if (!on) return absent.push(key);
        return set(result, path, {});
      }
      if (meta?.always) return set(result, path, {});
      if (meta?.presentWhen && !meta.presentWhen.some((name) => read(env, name) !== undefined)) absent.push(key);
    },
    leaf: (leaf) => {
      const { path, envNames } = leaf;
      const key = path.join('.');
      if (insideAbsent(key)) return;
      const name = envNames.find((candidate) => read(env, candidate) !== undefined);
      if (name === undefined) return;
      set(result, path, coerce(leaf, name, read(env, name)!));
      sources.set(key, name);
    },
  });
  return result;
}

function coerce(leaf: SettingLeaf, name: string, value: string): unknown {
  const { inner } = leaf;
  if (inner instanceof z.ZodBoolean) return parseBoolean(name, value, envFixHint(name, leaf, BOOLEAN_WORDS));
  const fix = envFixHint(name, leaf);
  if (inner instanceof z.ZodNumber) {
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new InvalidRealtimeConfigError(name, value, numberRange(inner), { fix });
    return parsed;
  }
  // A list or a word (`REALTIME_CORS_ORIGINS=*`): the word when one of the union's literals is the value.
  if (inner instanceof z.ZodUnion) {
    const literal = inner.options.some((option) => option instanceof z.ZodLiteral && option.value === value);
    if (literal || !inner.options.some((option) => option instanceof z.ZodArray)) return value;
  }
  if (inner instanceof z.ZodArray || inner instanceof z.ZodUnion) {
    return value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
  }
  return value;
}

/** A variable that turns the section at `path` on or off. */
function readToggle(env: Env, name: string, path: string): boolean | undefined {
  const value = read(env, name);
  const fix = `${name} turns ${path} on or off: ${BOOLEAN_WORDS}, or unset it.`;
  return value === undefined ? undefined : parseBoolean(name, value, fix);
}

function parseBoolean(name: string, value: string, fix: string): boolean {
  const lower = value.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new InvalidRealtimeConfigError(name, value, 'true or false', { fix });
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function set(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]] ??= value;
}
