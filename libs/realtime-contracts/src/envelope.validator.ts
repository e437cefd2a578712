import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import envelopeSchema from './events.json';
import type { Envelope } from './envelope';

export type EnvelopeValidation = { valid: true } | { valid: false; reason: string };

/**
 * The envelope's JSON Schema (`events.json`) as a plain object. Typed by its shape rather than as the JSON module,
 * so this package's declarations import no `.json` file: those fail to type-check (TS2732) in every application
 * without `resolveJsonModule`.
 */
export type EnvelopeJsonSchema = {
  readonly $schema: string;
  readonly $id: string;
  readonly [keyword: string]: unknown;
};

/**
 * Validates envelopes against `events.json` (shipped in this package as `@realtime-streams/contracts/events.json`),
 * the same file other consumers read. The schema is compiled once per validator (compiling costs milliseconds,
 * validating costs microseconds).
 */
export class EnvelopeValidator {
  private readonly validateFn: ValidateFunction<Envelope>;

  constructor() {
    const ajv = new Ajv2020({ allErrors: false, strict: true });
    this.validateFn = ajv.compile<Envelope>(envelopeSchema);
  }

  /** The JSON Schema every envelope follows. */
  static get schema(): EnvelopeJsonSchema {
    return envelopeSchema;
  }

  validate(candidate: unknown): EnvelopeValidation {
    if (this.validateFn(candidate)) return { valid: true };
    return { valid: false, reason: describe(this.validateFn.errors) };
  }

  isValid(candidate: unknown): candidate is Envelope {
    return this.validateFn(candidate);
  }
}

/** `/target: must match exactly one schema in oneOf`, naming the field, as the error message. */
function describe(errors: ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  if (!first) return 'does not match the envelope schema';
  const field = first.instancePath || '(envelope)';
  const extra =
    first.keyword === 'additionalProperties'
      ? ` (${String((first.params as { additionalProperty?: string }).additionalProperty)})`
      : first.keyword === 'required'
        ? ` (${String((first.params as { missingProperty?: string }).missingProperty)})`
        : '';
  return `${field} ${first.message ?? 'is invalid'}${extra}`;
}
