import { Body, ConflictException, Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { AuthenticatedUser } from '@realtime-streams/gateway';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { roomIdOf } from '../chat/chat-input';
import type { Room } from './room';
import { RoomAccess } from './room-access';
import { memberBodyOf, roomBodyOf } from './room-input';
import { RoomRepository } from './storage/room.repository';

/** What `@Res({ passthrough: true })` needs of Express's response here. */
interface StatusResponse {
  status(code: number): unknown;
}

/** Rooms and their members. Who may read, post and join is `RoomAccess`'s decision (see `ROOMS_OPEN`). */
@Controller('rooms')
@UseGuards(JwtAuthGuard)
export class RoomsController {
  constructor(
    private readonly rooms: RoomRepository,
    private readonly access: RoomAccess,
  ) {}

  /** `{ id, members? }`: creates the room; the caller is a member. 409 when the id is taken. */
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown, @CurrentUser() user: AuthenticatedUser): Room {
    const { id, members } = roomBodyOf(body);
    const room = this.rooms.create(id, user.id, [...new Set([user.id, ...members])]);
    if (!room) throw new ConflictException(`room ${id} already exists`);
    return room;
  }

  /** `{ userId }`, by a member: 201 when added, 200 when the user already was a member. */
  @Post(':roomId/members')
  addMember(
    @Param('roomId') roomId: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: StatusResponse,
  ): { roomId: string; userId: string; added: boolean } {
    this.access.checkMember(roomIdOf(roomId), user.id);
    const userId = memberBodyOf(body);
    const added = this.rooms.addMember(roomId, userId, user.id);
    response.status(added ? 201 : 200);
    return { roomId, userId, added };
  }

  @Get(':roomId/members')
  members(
    @Param('roomId') roomId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): { roomId: string; members: string[] } {
    this.access.checkMember(roomIdOf(roomId), user.id);
    return { roomId, members: this.rooms.members(roomId) };
  }
}
