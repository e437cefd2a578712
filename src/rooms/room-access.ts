import { ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { serviceConfig, type ServiceConfig } from '../config/service.config';
import { RoomRepository } from './storage/room.repository';

/** Group name of a room on the hub: what `JoinRoom(roomId)` joins and messages are published to. */
export const roomGroup = (roomId: string): string => `room:${roomId}`;
const GROUP_PREFIX = roomGroup('');

/**
 * Who may use a room. With `ROOMS_OPEN=false` only its members read its history, post, type and join it on the
 * hub; with `ROOMS_OPEN=true` (the development default) every room is open to every user. Managing members always
 * takes a member.
 */
@Injectable()
export class RoomAccess {
  readonly open: boolean;

  constructor(
    private readonly rooms: RoomRepository,
    @Inject(serviceConfig.KEY) config: ServiceConfig,
  ) {
    this.open = config.roomsOpen;
  }

  /** REST: reading, posting, typing. A 403 names the room; whether it exists is not told to non-members. */
  async check(roomId: string, userId: string): Promise<void> {
    if (!this.open && !(await this.rooms.isMember(roomId, userId))) throw notAMember(roomId);
  }

  /** Member management: 404 for a room that does not exist, 403 for a caller who is not in it. */
  async checkMember(roomId: string, userId: string): Promise<void> {
    if (!(await this.rooms.exists(roomId))) throw new NotFoundException(`room ${roomId} does not exist`);
    if (!(await this.rooms.isMember(roomId, userId))) throw notAMember(roomId);
  }

  /** The hub's `authorizeGroup`: only room groups, and only for members unless rooms are open. */
  async mayJoinGroup(userId: string, group: string): Promise<boolean> {
    if (!group.startsWith(GROUP_PREFIX)) return false;
    return this.open || this.rooms.isMember(group.slice(GROUP_PREFIX.length), userId);
  }
}

function notAMember(roomId: string): ForbiddenException {
  return new ForbiddenException(`not a member of room ${roomId}`);
}
