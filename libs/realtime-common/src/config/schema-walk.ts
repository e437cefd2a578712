import { z } from 'zod';
import { type SectionMeta, type SettingMeta, sectionRegistry, settingRegistry } from './setting';

export interface SettingLeaf {
  path: string[];
  schema: z.ZodType;
  /** The type under optional/default wrappers. */
  inner: z.ZodType;
  meta: SettingMeta;
  defaultValue: unknown;
  envNames: readonly string[];
}

export interface SchemaSection {
  path: string[];
  meta?: SectionMeta;
}

/** Unwraps optional/default/prefault/nullable wrappers, keeping the default the outermost one gives. */
export function unwrap(schema: z.ZodType): { inner: z.ZodType; defaultValue: unknown } {
  let current = schema;
  let defaultValue: unknown;
  for (;;) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
      if (defaultValue === undefined) defaultValue = current.def.defaultValue;
      current = current.def.innerType as z.ZodType;
    } else if (current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
      current = current.def.innerType as z.ZodType;
    } else {
      return { inner: current, defaultValue };
    }
  }
}

/** Every documented setting and every section of an options schema, depth first, in declaration order. */
export function walkSchema(
  schema: z.ZodType,
  visit: { leaf?: (leaf: SettingLeaf) => void; section?: (section: SchemaSection) => void },
  path: string[] = [],
): void {
  const { inner, defaultValue } = unwrap(schema);
  const meta = settingRegistry.get(schema) ?? settingRegistry.get(inner);
  if (meta) {
    const envNames = meta.env === undefined ? [] : typeof meta.env === 'string' ? [meta.env] : meta.env;
    visit.leaf?.({ path, schema, inner, meta, defaultValue, envNames });
    return;
  }
  if (inner instanceof z.ZodObject) {
    if (path.length > 0) visit.section?.({ path, meta: sectionRegistry.get(schema) ?? sectionRegistry.get(inner) });
    for (const [key, child] of Object.entries(inner.shape)) {
      walkSchema(child as z.ZodType, visit, [...path, key]);
    }
  }
}
