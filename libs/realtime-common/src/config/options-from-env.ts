import { z } from 'zod';
import type { Env } from '../env';
import { InvalidRealtimeConfigError } from '../invalid-realtime-config.error';
import { walkSchema } from './schema-walk';

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

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
        const on = readBoolean(env, meta.toggle) ?? meta.toggleDefault ?? true;
        if (!on) return absent.push(key);
        return set(result, path, {});
      }
      if (meta?.always) return set(result, path, {});
      if (meta?.presentWhen && !meta.presentWhen.some((name) => read(env, name) !== undefined)) absent.push(key);
    },
    leaf: ({ path, inner, envNames }) => {
      const key = path.join('.');
      if (insideAbsent(key)) return;
      const name = envNames.find((candidate) => read(env, candidate) !== undefined);
      if (name === undefined) return;
      set(result, path, coerce(inner, name, read(env, name)!));
      sources.set(key, name);
    },
  });
  return result;
}

function coerce(inner: z.ZodType, name: string, value: string): unknown {
  if (inner instanceof z.ZodBoolean) return parseBoolean(name, value);
  if (inner instanceof z.ZodNumber) {
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) {
      const { minValue, maxValue, isInt } = inner;
      throw new InvalidRealtimeConfigError(
        name,
        value,
        `${isInt ? 'an integer' : 'a number'} between ${minValue} and ${maxValue}`,
      );
    }
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

function readBoolean(env: Env, name: string): boolean | undefined {
  const value = read(env, name);
  return value === undefined ? undefined : parseBoolean(name, value);
}

function parseBoolean(name: string, value: string): boolean {
  const lower = value.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new InvalidRealtimeConfigError(name, value, 'true or false');
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
