import { RealtimeEvent, toGroup } from '@realtime-streams/transport';
import type { ChatMessage } from '../chat-message';

/**
 * A message was stored. The room receives it as `ReceiveMessage(message)`; it supersedes its author's pending
 * typing state in the room, so a stale "typing" never follows the message. Its number in the room (`seq`) travels in
 * the envelope.
 */
@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: MessageCreated) => toGroup(`room:${e.message.roomId}`),
  args: (e: MessageCreated) => [e.message],
  supersedes: (e: MessageCreated) => `${e.message.roomId}:${e.message.userId}`,
  // The room's commit order: gateways deliver the room in it, whichever api instance published first.
  sequence: (e: MessageCreated) => e.message.seq,
})
export class MessageCreated {
  constructor(readonly message: ChatMessage) {}
}
