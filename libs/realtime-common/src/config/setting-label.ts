import type { z } from 'zod';
import { type SettingLeaf, walkSchema } from './schema-walk';

/** The documented setting at an option path (`redis.shards`), if there is one. */
export function leafAt(schema: z.ZodType, path: string): SettingLeaf | undefined {
  let found: SettingLeaf | undefined;
  walkSchema(schema, {
    leaf: (leaf) => {
      if (leaf.path.join('.') === path) found = leaf;
    },
  });
  return found;
}

/** How a message names a setting: `REALTIME_STREAM_SHARDS (redis.shards)` when the environment set it, else its path. */
export function settingLabel(path: string, source?: string): string {
  if (!path) return '(options)';
  return source ? `${source} (${path})` : path;
}

/**
 * One sentence on where to fix a value, naming the environment variable as well when the option has one, with the
 * default it falls back to when left out.
 */
export function fixHint(path: string, leaf: SettingLeaf | undefined, source?: string): string {
  const fallback = defaultOf(leaf);
  if (source) return `Fix ${source}, or unset it to use the default${fallback}.`;
  const env = leaf?.envNames[0];
  const where = `Fix ${path || 'them'} in the module options (forRoot/forRootAsync)`;
  return `${where}${env ? ` or ${env} in the environment` : ''}, or leave it out to use the default${fallback}.`;
}

/** For a variable whose value cannot even be read (`REALTIME_KEEPALIVE_MS=soon`): what it sets, and the default. */
export function envFixHint(name: string, leaf: SettingLeaf, how = 'fix it'): string {
  return `${name} sets ${leaf.path.join('.')}: ${how}, or unset it to use the default${defaultOf(leaf)}.`;
}

/** " (15000)", or nothing when there is no default worth showing (or the setting is a secret). */
function defaultOf(leaf: SettingLeaf | undefined): string {
  if (!leaf || leaf.meta.secret) return '';
  if (leaf.meta.shownDefault) return ` (${leaf.meta.shownDefault.replace(/`/g, '').replace(/^\((.*)\)$/, '$1')})`;
  const value = leaf.defaultValue;
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return '';
  return ` (${Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : JSON.stringify(value)})`;
}
