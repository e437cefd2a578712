import { Logger } from '@nestjs/common';
import { HubMethodError } from '../errors/hub-method.error';
import type { HubMetrics } from './hub.metrics';
import type { HubCallContext, HubMethod, ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import type { HubConnection } from './hub-connection';
import type { HubConnections } from './hub-connections';

const MAX_GROUP_NAME = 256;
const MAX_METHOD_NAME = 128;
/** A joined group's shard is held this long for the join that follows its prepare at once. */
const JOIN_HOLD_MS = 1000;

/**
 * Runs the hub methods clients invoke: the group membership methods (with their name mapping and authorization
 * hook) and the application's own. Method names match case-insensitively, as at the SignalR client.
 */
export class HubInvoker {
  private readonly logger = new Logger('RealtimeHub');
  private readonly methods = new Map<string, HubMethod>();

  constructor(
    private readonly connections: HubConnections,
    options: ResolvedGatewayOptions['hub'],
    maxGroupsPerConnection: number,
    metrics: HubMetrics,
  ) {
    for (const [name, method] of Object.entries(options.methods ?? {})) this.methods.set(name.toLowerCase(), method);
    for (const group of options.groupMethods) {
      const toGroup = group.toGroup ?? ((name: unknown) => name as string);
      this.methods.set(group.join.toLowerCase(), async (context, ...args) => {
        const name = groupNameArgument(toGroup(...args));
        const member = this.connection(context);
        // Checked before the authorization hook, which may cost a database lookup; joins still being authorized
        // count too, or a frame of 40 joins would all pass the check before the first one took its place.
        const reserved = member !== undefined && !member.groups.has(name);
        if (reserved) {
          if (member.groups.size + member.joining >= maxGroupsPerConnection) {
            metrics.clientLimitHit('groups');
            throw new HubMethodError(
              `A connection may be in at most ${maxGroupsPerConnection} groups: leave one first.`,
            );
          }
          member.joining++;
        }
        try {
          if (options.authorizeGroup && !(await options.authorizeGroup(context.user, name))) {
            throw new HubMethodError(`Not allowed to join ${name}.`);
          }
        } finally {
          if (reserved) member.joining--;
        }
        if (!this.connection(context)) return;
        // The group's shard is read from before the join is answered: every message after it arrives.
        await this.connections.prepare([`group:${name}`], JOIN_HOLD_MS);
        const connection = this.connection(context);
        if (connection) this.connections.join(connection, name);
      });
      this.methods.set(group.leave.toLowerCase(), (context, ...args) => {
        const connection = this.connection(context);
        const name = groupNameArgument(toGroup(...args));
        if (connection) this.connections.leave(connection, name);
      });
    }
  }

  /** Runs a method; resolves to its result, rejects with a message fit for the client. */
  async invoke(connection: HubConnection, target: string, args: unknown[]): Promise<unknown> {
    const method = target.length <= MAX_METHOD_NAME ? this.methods.get(target.toLowerCase()) : undefined;
    // The name is echoed only when short: an answer must not grow with what the client sent.
    if (!method) throw new HubMethodError(`Method '${target.slice(0, MAX_METHOD_NAME)}' does not exist.`);
    try {
      return await method({ connectionId: connection.id, user: connection.user }, ...args);
    } catch (error) {
      if (error instanceof HubMethodError) throw error;
      this.logger.error(`Hub method ${target} failed for ${connection.user.id}`, error as Error);
      throw new HubMethodError(`An unexpected error occurred invoking '${target}' on the server.`);
    }
  }

  /** The caller, while its connection is open (a join authorized after it went is not applied). */
  private connection(context: HubCallContext): HubConnection | undefined {
    return this.connections.find(context.connectionId);
  }
}

/**
 * The SignalR group name a join/leave invocation asked for, checked. Not `groupName` of stream-groups.ts, which
 * names the Redis consumer group of a gateway instance.
 */
function groupNameArgument(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_GROUP_NAME) {
    throw new HubMethodError(`A group name must be a string of 1-${MAX_GROUP_NAME} characters.`);
  }
  return value;
}
