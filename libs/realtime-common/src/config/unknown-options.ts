import { z } from 'zod';
import { nearestKey } from './nearest-key';
import { unwrap } from './schema-walk';
import { settingRegistry } from './setting';

export interface UnknownOption {
  /** Full option path of the key, e.g. `redis.shard`. */
  path: string;
  /** The option probably meant, as a full path (`redis.shards`), when one is close. */
  suggestion?: string;
  /** The option names at that level. */
  valid: string[];
}

/**
 * The first key of `input` that the schema has no place for, depth first. Zod drops such keys without a word, so a
 * typo leaves a default in force unnoticed. Only plain option objects are looked into: the values a setting takes
 * whole (ioredis options, a store, hooks) are the application's own and may hold anything.
 */
export function findUnknownOption(schema: z.ZodType, input: unknown): UnknownOption | undefined {
  const found = visit(schema, input, []);
  return found && suggest(found.path, found.valid, optionPaths(schema));
}

function visit(schema: z.ZodType, input: unknown, path: string[]): { path: string[]; valid: string[] } | undefined {
  const { inner } = unwrap(schema);
  if (settingRegistry.has(schema) || settingRegistry.has(inner) || !(inner instanceof z.ZodObject)) return undefined;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
  const shape = inner.shape as Record<string, z.ZodType>;
  const valid = Object.keys(shape);
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(shape, key)) return { path: [...path, key], valid };
    const found = visit(shape[key], (input as Record<string, unknown>)[key], [...path, key]);
    if (found) return found;
  }
  return undefined;
}

function suggest(path: string[], valid: string[], everyPath: string[]): UnknownOption {
  const key = path[path.length - 1];
  const parent = path.slice(0, -1);
  const sibling = nearestKey(key, valid);
  // A sibling that is close wins; else the same name at another level (`shards` given at the top, not in `redis`).
  const elsewhere = everyPath.find((candidate) => candidate.split('.').pop()?.toLowerCase() === key.toLowerCase());
  const suggestion = sibling !== undefined ? [...parent, sibling].join('.') : elsewhere;
  return { path: path.join('.'), suggestion, valid };
}

/** Every option path of the schema, sections and settings, depth first. */
function optionPaths(schema: z.ZodType, path: string[] = []): string[] {
  const { inner } = unwrap(schema);
  if (settingRegistry.has(schema) || settingRegistry.has(inner) || !(inner instanceof z.ZodObject)) return [];
  const paths: string[] = [];
  for (const [key, child] of Object.entries(inner.shape)) {
    paths.push([...path, key].join('.'));
    paths.push(...optionPaths(child as z.ZodType, [...path, key]));
  }
  return paths;
}
