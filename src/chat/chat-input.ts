import { BadRequestException } from '@nestjs/common';

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_TEXT_LENGTH = 4000;
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 500;

/** Request checks; each failure is a 400 that names the field. */
export function roomIdOf(value: string): string {
  if (!ROOM_ID.test(value)) throw new BadRequestException('roomId must be 1-64 letters, digits, "_" or "-"');
  return value;
}

export function textOf(body: unknown): string {
  const text = (body as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_TEXT_LENGTH) {
    throw new BadRequestException(`text must be a non-empty string of at most ${MAX_TEXT_LENGTH} characters`);
  }
  return text;
}

export function isTypingOf(body: unknown): boolean {
  const isTyping = (body as { isTyping?: unknown } | undefined)?.isTyping;
  if (typeof isTyping !== 'boolean') throw new BadRequestException('isTyping must be true or false');
  return isTyping;
}

export function limitOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PAGE;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new BadRequestException(`limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}
