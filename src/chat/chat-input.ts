import { BadRequestException } from '@nestjs/common';

/** Room and user ids: what a URL path segment and a group name can carry without escaping. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_TEXT_LENGTH = 4000;
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 500;

/** Request checks; each failure is a 400 that names the field. */
export function idOf(field: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new BadRequestException(`${field} must be 1-64 letters, digits, "_" or "-"`);
  }
  return value;
}

export function roomIdOf(value: string): string {
  return idOf('roomId', value);
}

export function textOf(body: unknown): string {
  const text = fieldOf(body, 'text');
  if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_TEXT_LENGTH) {
    throw new BadRequestException(`text must be a non-empty string of at most ${MAX_TEXT_LENGTH} characters`);
  }
  return text;
}

export function isTypingOf(body: unknown): boolean {
  const isTyping = fieldOf(body, 'isTyping');
  if (typeof isTyping !== 'boolean') throw new BadRequestException('isTyping must be true or false');
  return isTyping;
}

/**
 * A query parameter as one string. Express hands a repeated parameter over as an array (`?after=a&after=b`),
 * which would otherwise reach the database as a list of values.
 */
export function queryOf(name: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  throw new BadRequestException(`${name} must be given once, as a single value`);
}

export function limitOf(value: unknown): number {
  const given = queryOf('limit', value);
  if (given === undefined) return DEFAULT_PAGE;
  const limit = Number(given);
  if (!/^\d+$/.test(given) || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new BadRequestException(`limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}

/** A field of a JSON object body; undefined for anything else (an array, a string, no body). */
export function fieldOf(body: unknown, name: string): unknown {
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)[name]
    : undefined;
}
