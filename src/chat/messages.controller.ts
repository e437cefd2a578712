import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import type { AuthenticatedUser } from '@realtime/gateway';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { RoomAccess } from '../rooms/room-access';
import { limitOf, queryOf, roomIdOf, textOf } from './chat-input';
import type { ChatMessage } from './chat-message';
import { MessageCreated } from './events/message-created.event';
import { MessageRepository } from './storage/message.repository';

@Controller('rooms/:roomId/messages')
@UseGuards(JwtAuthGuard)
export class MessagesController {
  constructor(
    private readonly messages: MessageRepository,
    private readonly access: RoomAccess,
    private readonly events: EventBus,
  ) {}

  /** Stores the message, then publishes it: the room receives `ReceiveMessage(message)`. */
  @Post()
  @HttpCode(201)
  create(@Param('roomId') roomId: string, @Body() body: unknown, @CurrentUser() user: AuthenticatedUser): ChatMessage {
    this.access.check(roomIdOf(roomId), user.id);
    const message = this.messages.add({ roomId, userId: user.id, text: textOf(body) });
    this.events.publish(new MessageCreated(message));
    return message;
  }

  /** The messages after `after` (a message id), oldest first: what a client fetches after reconnecting. */
  @Get()
  list(
    @Param('roomId') roomId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Query('after') afterParam?: unknown,
    @Query('limit') limitParam?: unknown,
  ): ChatMessage[] {
    this.access.check(roomIdOf(roomId), user.id);
    const after = queryOf('after', afterParam);
    const limit = limitOf(limitParam);
    if (after !== undefined && !this.messages.has(roomId, after)) {
      throw new BadRequestException('after must be the id of a message in this room');
    }
    return this.messages.listAfter(roomId, after, limit);
  }
}
