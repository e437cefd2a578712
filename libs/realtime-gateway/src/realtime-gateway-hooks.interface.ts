import type { AuthenticatedUser } from './auth/access-token-verifier';

/**
 * Hub methods that join and leave groups. `toGroup` maps the method's arguments to a group name, so an application
 * can expose `JoinRoom(roomId)` for group `room:<roomId>`.
 */
export interface GroupMethods {
  /** Method that joins a group. @default 'JoinGroup' */
  join: string;
  /** Method that leaves a group. @default 'LeaveGroup' */
  leave: string;
  /** Group named by the arguments. @default the first argument, as is */
  toGroup?: (...args: unknown[]) => string;
}

/** Context of a hub method call. */
export interface HubCallContext {
  readonly connectionId: string;
  readonly user: AuthenticatedUser;
}

/** An application hub method; what it returns (or resolves to) is the client's `invoke` result. */
export type HubMethod = (context: HubCallContext, ...args: unknown[]) => unknown;
