import type { z } from 'zod';
import { walkSchema } from './schema-walk';

/**
 * The configuration reference's table for a schema: one row per environment variable, with its option path, default
 * and description. docs/configuration.md embeds this output; a test keeps the two equal.
 */
export function configTable(schema: z.ZodType, optionPrefix = ''): string {
  const rows: string[][] = [['Variable', 'Option', 'Default', 'Meaning']];
  walkSchema(schema, {
    // A section switched by a variable of its own (REALTIME_GATEWAY_REDIS) has a row too, before its settings.
    section: ({ path, meta }) => {
      if (!meta?.toggle) return;
      const name = path.join('.');
      rows.push([
        `\`${meta.toggle}\``,
        `\`${optionPrefix}${name}\``,
        `\`${meta.toggleDefault ?? false}\``,
        `\`false\` turns the \`${name}\` section off (left out in code), \`true\` on; anything else stops start-up.`,
      ]);
    },
    leaf: ({ path, meta, defaultValue, envNames }) => {
      if (envNames.length === 0) return;
      const [name, ...older] = envNames;
      const alias = older.length > 0 ? ` (also read: ${older.map((n) => `\`${n}\``).join(', ')})` : '';
      rows.push([
        `\`${name}\``,
        `\`${optionPrefix}${path.join('.')}\``,
        meta.shownDefault ?? shown(defaultValue),
        meta.doc.replace(/\|/g, '\\|') + alias,
      ]);
    },
  });
  const [header, ...body] = rows;
  return [row(header), row(header.map(() => '---')), ...body.map(row)].join('\n') + '\n';
}

function shown(value: unknown): string {
  if (value === undefined) return '(none)';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : `\`${value.join(',')}\``;
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}
