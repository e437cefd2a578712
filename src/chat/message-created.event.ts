import { RealtimeEvent, toGroup } from '@realtime/transport';

export interface ChatMessage {
  readonly id: string;
  readonly roomId: string;
  readonly userId: string;
  readonly text: string;
  readonly createdAt: string;
}

/** A message was stored; the room's members receive it as `ReceiveMessage(message)`. */
@RealtimeEvent({
  method: 'ReceiveMessage',
  type: 'chat.message.created',
  to: (e: MessageCreated) => toGroup(`room:${e.message.roomId}`),
  args: (e: MessageCreated) => [e.message],
})
export class MessageCreated {
  constructor(readonly message: ChatMessage) {}
}
