import type { z } from 'zod';
import { walkSchema } from './config/schema-walk';

/** One environment variable an options schema reads: a setting's, or the true/false switch of a section. */
export interface EnvVariable {
  name: string;
  /** Older names still read. */
  aliases: readonly string[];
  /** The option it sets (`hub.path`), or the section it switches (`redis`). */
  option: string;
  /** The section it belongs to (`hub`; `''` at the top level), or the section it switches. */
  section: string;
  /** One sentence: what it does. */
  doc: string;
  /** The default the schema applies, or undefined when there is none. */
  defaultValue: unknown;
  /** The default as the configuration reference shows it, when the value itself says little. */
  shownDefault?: string;
}

/**
 * Every environment variable of a schema, in declaration order, a section's switch before its settings: what
 * `.env.example` lists (scripts/env-example.ts), as `configTable` is what the configuration reference lists.
 */
export function envVariables(schema: z.ZodType): EnvVariable[] {
  const variables: EnvVariable[] = [];
  walkSchema(schema, {
    section: ({ path, meta }) => {
      if (meta?.toggle === undefined) return;
      const option = path.join('.');
      variables.push({
        name: meta.toggle,
        aliases: [],
        option,
        section: option,
        doc: meta.doc ?? `\`false\` turns the \`${option}\` section off, \`true\` on.`,
        // What optionsFromEnv applies when the variable is unset.
        defaultValue: meta.toggleDefault ?? true,
      });
    },
    leaf: ({ path, meta, defaultValue, envNames }) => {
      if (envNames.length === 0) return;
      const [name, ...aliases] = envNames;
      variables.push({
        name,
        aliases,
        option: path.join('.'),
        section: path.slice(0, -1).join('.'),
        doc: meta.doc,
        defaultValue,
        ...(meta.shownDefault === undefined ? {} : { shownDefault: meta.shownDefault }),
      });
    },
  });
  return variables;
}
