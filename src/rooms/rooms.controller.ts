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
  async create(@Body() body: unknown, @CurrentUser() user: AuthenticatedUser): Promise<Room> {
    const { id, members } = roomBodyOf(body);
    const room = await this.rooms.create(id, user.id, [...new Set([user.id, ...members])]);
    if (!room) throw new ConflictException(`room ${id} already exists`);
    return room;
  }

  /** `{ userId }`, by a member: 201 when added, 200 when the user already was a member. */
  @Post(':roomId/members')
  async addMember(
    @Param('roomId') roomId: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: StatusResponse,
  ): Promise<{ roomId: string; userId: string; added: boolean }> {
    await this.access.checkMember(roomIdOf(roomId), user.id);
    const userId = memberBodyOf(body);
    const added = await this.rooms.addMember(roomId, userId, user.id);
    response.status(added ? 201 : 200);
    return { roomId, userId, added };
  }

  @Get(':roomId/members')
  async members(
    @Param('roomId') roomId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<{ roomId: string; members: string[] }> {
    await this.access.checkMember(roomIdOf(roomId), user.id);
    return { roomId, members: await this.rooms.members(roomId) };
  }
}
