import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import type { AuthenticatedUser } from '@realtime-streams/gateway';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { RoomAccess } from '../rooms/room-access';
import { isTypingOf, roomIdOf } from './chat-input';
import { UserTypingChanged } from './events/user-typing.event';

@Controller('rooms/:roomId/typing')
@UseGuards(JwtAuthGuard)
export class TypingController {
  constructor(
    private readonly access: RoomAccess,
    private readonly events: EventBus,
  ) {}

  /** Accepted, not stored: the room receives `UserTyping({ roomId, userId, isTyping })`, coalesced. */
  @Post()
  @HttpCode(202)
  async typing(
    @Param('roomId') roomId: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<void> {
    await this.access.check(roomIdOf(roomId), user.id);
    this.events.publish(new UserTypingChanged(roomId, user.id, isTypingOf(body)));
  }
}
