import { randomUUID } from 'node:crypto';
import { messageText } from '../e2e/protocol';
import type { ScheduledMessage } from './open-loop';

/**
 * The JSON of a message as the api stores it and the gateway delivers it (id, roomId, userId, text, createdAt,
 * acceptedAt), stamped now: the floor's message is as big as ours and its latency starts at the same point.
 */
export function floorMessageJson(message: ScheduledMessage): string {
  const acceptedAt = performance.timeOrigin + performance.now();
  return JSON.stringify({
    id: randomUUID(),
    roomId: message.room,
    userId: message.sender,
    text: messageText(message.sender, message.seq, message.measured),
    createdAt: new Date(acceptedAt).toISOString(),
    acceptedAt,
  });
}
