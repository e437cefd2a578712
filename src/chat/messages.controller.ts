import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { RealtimePublisher } from '@realtime-streams/transport';
import type { AuthenticatedUser } from '@realtime-streams/gateway';
import { CurrentUser } from '../auth/current-user.decorator';
import { serviceConfig, type ServiceConfig } from '../config/service.config';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { RoomAccess } from '../rooms/room-access';
import { limitOf, queryOf, roomIdOf, textOf } from './chat-input';
import type { ChatMessage } from './chat-message';
import { MessageCreated } from './events/message-created.event';
import { MessageRepository } from './storage/message.repository';
import { ChatOutboxStore } from './storage/chat-outbox.store';

@Controller('rooms/:roomId/messages')
@UseGuards(JwtAuthGuard)
export class MessagesController {
  constructor(
    private readonly messages: MessageRepository,
    private readonly access: RoomAccess,
    private readonly events: EventBus,
    private readonly publisher: RealtimePublisher,
    private readonly outbox: ChatOutboxStore,
    @Inject(serviceConfig.KEY) private readonly config: ServiceConfig,
  ) {}

  /**
   * Stores the message, then publishes it: the room receives `ReceiveMessage(message)`. With the outbox (the
   * default) its envelope is stored in the same transaction before the 201, and published from memory at once
   * after the commit; the outbox copy only matters if this process dies before a transport took it.
   */
  @Post()
  @HttpCode(201)
  async create(
    @Param('roomId') roomId: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<ChatMessage> {
    await this.access.check(roomIdOf(roomId), user.id);
    const draft = { roomId, userId: user.id, text: textOf(body) };
    if (!this.config.outbox) {
      const message = await this.messages.add(draft);
      this.events.publish(new MessageCreated(message));
      return message;
    }
    let event: MessageCreated | undefined;
    const message = await this.messages.add(draft, (stored) => {
      event = new MessageCreated(stored);
      return this.outbox.insert(this.publisher.prepare(event).record);
    });
    // On the EventBus as any event: the module publishes the prepared envelope (same id as the stored record).
    this.events.publish(event!);
    return message;
  }

  /** The messages after `after` (a message id), oldest first: what a client fetches after reconnecting. */
  @Get()
  async list(
    @Param('roomId') roomId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Query('after') afterParam?: unknown,
    @Query('limit') limitParam?: unknown,
  ): Promise<ChatMessage[]> {
    await this.access.check(roomIdOf(roomId), user.id);
    const after = queryOf('after', afterParam);
    const limit = limitOf(limitParam);
    if (after !== undefined && !(await this.messages.has(roomId, after))) {
      throw new BadRequestException('after must be the id of a message in this room');
    }
    return this.messages.listAfter(roomId, after, limit);
  }
}
