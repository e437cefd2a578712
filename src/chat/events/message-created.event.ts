import { RealtimeEvent, toGroup } from '@realtime-streams/transport';
import type { ChatMessage } from '../chat-message';

/**
 * A message was stored. The room receives it as `ReceiveMessage(message)`; it supersedes its author's pending
 * typing state in the room, so a stale "typing" never follows the message.
 */
@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: MessageCreated) => toGroup(`room:${e.message.roomId}`),
  args: (e: MessageCreated) => [e.message],
  supersedes: (e: MessageCreated) => `${e.message.roomId}:${e.message.userId}`,
})
export class MessageCreated {
  constructor(readonly message: ChatMessage) {}
}
