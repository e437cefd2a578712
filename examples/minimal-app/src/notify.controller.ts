import { BadRequestException, Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { NotificationPosted } from './notification.event';

const MAX_GROUP_LENGTH = 128;
const MAX_TEXT_LENGTH = 4096;

@Controller('notify')
export class NotifyController {
  constructor(private readonly eventBus: EventBus) {}

  /**
   * 202, not 200: the event is handed to the realtime pipeline, which delivers it asynchronously; the request does
   * not wait for clients to receive it.
   */
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  notify(@Body() body: unknown): { accepted: true } {
    const group = requiredString(body, 'group', MAX_GROUP_LENGTH);
    const text = requiredString(body, 'text', MAX_TEXT_LENGTH);
    this.eventBus.publish(new NotificationPosted(group, text));
    return { accepted: true };
  }
}

// Validated by hand to keep the example's dependencies to what the packages need (no class-validator).
function requiredString(body: unknown, field: string, maxLength: number): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new BadRequestException(`"${field}" must be a string of 1 to ${maxLength} characters`);
  }
  return value;
}
