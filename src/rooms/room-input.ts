import { BadRequestException } from '@nestjs/common';
import { fieldOf, idOf } from '../chat/chat-input';

/** Members one `POST /rooms` may name; more are added one by one. */
export const MAX_MEMBERS_PER_REQUEST = 1000;

export function roomBodyOf(body: unknown): { id: string; members: string[] } {
  const id = idOf('id', fieldOf(body, 'id'));
  const members = fieldOf(body, 'members') ?? [];
  if (!Array.isArray(members) || members.length > MAX_MEMBERS_PER_REQUEST) {
    throw new BadRequestException(`members must be an array of at most ${MAX_MEMBERS_PER_REQUEST} user ids`);
  }
  return { id, members: members.map((member, i) => idOf(`members[${i}]`, member)) };
}

export function memberBodyOf(body: unknown): string {
  return idOf('userId', fieldOf(body, 'userId'));
}
