import { RealtimeEvent, toGroup } from '@realtime-streams/transport';

/** A user started or stopped typing in a room; coalesced per room and user, delivered as `UserTyping(state)`. */
@RealtimeEvent({
  method: 'UserTyping',
  type: 'chat.typing',
  to: (e: UserTypingChanged) => toGroup(`room:${e.roomId}`),
  args: (e: UserTypingChanged) => [{ roomId: e.roomId, userId: e.userId, isTyping: e.isTyping }],
  coalesce: { key: (e: UserTypingChanged) => `${e.roomId}:${e.userId}` },
})
export class UserTypingChanged {
  constructor(
    readonly roomId: string,
    readonly userId: string,
    readonly isTyping: boolean,
  ) {}
}
