import type { z } from 'zod';
import { walkSchema } from './schema-walk';

/**
 * The README's configuration table for a schema: one row per environment variable, with its option path, default
 * and description. The README embeds this output; a test keeps the two equal.
 */
export function configTable(schema: z.ZodType, optionPrefix = ''): string {
  const rows: string[][] = [['Variable', 'Option', 'Default', 'Meaning']];
  walkSchema(schema, {
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
