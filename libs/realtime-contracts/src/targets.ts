import type { RealtimeTarget } from './envelope';

/** Every connection that joined the group (e.g. `room:42`). */
export function toGroup(name: string): RealtimeTarget {
  return { kind: 'group', name };
}

/** Every connection of one user, whatever groups they joined. */
export function toUser(id: string): RealtimeTarget {
  return { kind: 'user', id };
}

const ALL: RealtimeTarget = Object.freeze({ kind: 'all' });

/** Every connected client. */
export function toAll(): RealtimeTarget {
  return ALL;
}

/** The string routing decisions hash: the same target always gives the same key. */
export function targetKeyOf(target: RealtimeTarget): string {
  switch (target.kind) {
    case 'group':
      return 'group:' + target.name;
    case 'user':
      return 'user:' + target.id;
    default:
      return 'all';
  }
}

/** The target of a routing key (`targetKeyOf`'s inverse); undefined for a key no target gives. */
export function targetOfKey(key: string): RealtimeTarget | undefined {
  if (key.startsWith('group:')) return toGroup(key.slice(6));
  if (key.startsWith('user:')) return toUser(key.slice(5));
  return key === 'all' ? ALL : undefined;
}
