import { randomUUID } from 'node:crypto';
import { BadRequestException, Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { type ChatMessage, MessageCreated } from './message-created.event';

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TEXT = 4000;

@Controller('rooms/:roomId/messages')
export class MessagesController {
  constructor(private readonly events: EventBus) {}

  @Post()
  @HttpCode(201)
  create(@Param('roomId') roomId: string, @Body() body: { text?: unknown; userId?: unknown }): ChatMessage {
    if (!ROOM_ID.test(roomId)) throw new BadRequestException('roomId must be 1-64 letters, digits, _ or -');
    if (typeof body?.text !== 'string' || body.text.length === 0 || body.text.length > MAX_TEXT) {
      throw new BadRequestException(`text must be a string of 1-${MAX_TEXT} characters`);
    }
    const userId = typeof body.userId === 'string' && body.userId !== '' ? body.userId : 'anonymous';
    const message: ChatMessage = {
      id: randomUUID(),
      roomId,
      userId,
      text: body.text,
      createdAt: new Date().toISOString(),
    };
    this.events.publish(new MessageCreated(message));
    return message;
  }
}
