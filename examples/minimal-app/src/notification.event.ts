import { RealtimeEvent, toGroup } from '@realtime-streams/transport';

/**
 * Someone posted a notification to a group. Every client that joined the group (`JoinGroup(name)`) receives it as
 * `Notify({ group, text })`; the explicit `args` keeps the wire shape independent of this class's fields.
 */
@RealtimeEvent({
  method: 'Notify',
  type: 'notification.posted',
  to: (e: NotificationPosted) => toGroup(e.group),
  args: (e: NotificationPosted) => [{ group: e.group, text: e.text }],
})
export class NotificationPosted {
  constructor(
    readonly group: string,
    readonly text: string,
  ) {}
}
