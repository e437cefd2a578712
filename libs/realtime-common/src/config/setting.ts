import { z } from 'zod';

/** What a setting says about itself beyond its type: where it comes from in the environment, and what it does. */
export interface SettingMeta {
  /** Environment variable(s); the first is the documented one, the others are older names still read. */
  env?: string | readonly string[];
  /** One sentence for the README's configuration table. */
  doc: string;
  /** The default as the table shows it, when the value itself says little (e.g. "hostname-pid"). */
  shownDefault?: string;
  /** A secret: error messages give its length, never its value. */
  secret?: boolean;
}

/** A section (nested object) that exists only when the environment asks for it. */
export interface SectionMeta {
  /** The section is built from the environment only when one of these variables is set. */
  presentWhen?: readonly string[];
  /** A true/false variable that turns the section on or off (default: `toggleDefault`). */
  toggle?: string;
  toggleDefault?: boolean;
  /** The environment always builds this section (its settings all have defaults). */
  always?: boolean;
  doc?: string;
}

export const settingRegistry = z.registry<SettingMeta>();
export const sectionRegistry = z.registry<SectionMeta>();

/** Marks a schema as a documented setting; `schema` carries type, bounds and default. */
export function setting<T extends z.ZodType>(schema: T, meta: SettingMeta): T {
  settingRegistry.add(schema, meta);
  return schema;
}

/** Marks an object schema as a section that the environment may leave out. */
export function section<T extends z.ZodType>(schema: T, meta: SectionMeta): T {
  sectionRegistry.add(schema, meta);
  return schema;
}

/** An integer in [min, max]. */
export function integer(min: number, max: number): z.ZodNumber {
  return z.number().int().min(min).max(max);
}

/** An absolute URL whose protocol is one of `protocols` (e.g. `['redis:', 'rediss:']`). */
export function urlOf(protocols: readonly string[]) {
  return z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
}

/** A value the application passes in code (a hook, a store, a client): checked for presence and kind only. */
export function codeOnly<T>(check: (value: unknown) => boolean, expected: string) {
  return z.custom<T>((value) => check(value), { message: `expected ${expected}` });
}
