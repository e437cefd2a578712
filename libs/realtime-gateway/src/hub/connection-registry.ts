import type { HubConnection } from './hub-connection';

const NONE: ReadonlySet<HubConnection> = new Set();

/**
 * Told when a target gets its first connection here (`present`) or loses its last one: the routing key of the target
 * (`group:<name>`, `user:<id>`, `all`, as stream entries carry it). Interest routing reads a shard while one of its
 * targets is present. Called synchronously; must not throw.
 */
export type TargetListener = (targetKey: string, present: boolean) => void;

/** Connections by group and by user, so routing an envelope is one lookup. */
export class ConnectionRegistry {
  private readonly everyone = new Set<HubConnection>();
  private readonly byGroup = new Map<string, Set<HubConnection>>();
  private readonly byUser = new Map<string, Set<HubConnection>>();
  private readonly listeners: TargetListener[] = [];

  /** Adds a listener of targets coming and going (see TargetListener). */
  onTargets(listener: TargetListener): void {
    this.listeners.push(listener);
  }

  /** The routing keys of every target with a connection here now. */
  targetKeys(): string[] {
    const keys: string[] = [];
    if (this.everyone.size > 0) keys.push('all');
    for (const id of this.byUser.keys()) keys.push(`user:${id}`);
    for (const name of this.byGroup.keys()) keys.push(`group:${name}`);
    return keys;
  }

  get size(): number {
    return this.everyone.size;
  }

  get all(): ReadonlySet<HubConnection> {
    return this.everyone;
  }

  add(connection: HubConnection): void {
    if (this.everyone.has(connection)) return;
    this.everyone.add(connection);
    if (this.everyone.size === 1) this.tell('all', true);
    if (addTo(this.byUser, connection.user.id, connection)) this.tell(`user:${connection.user.id}`, true);
  }

  remove(connection: HubConnection): void {
    if (!this.everyone.delete(connection)) return;
    if (removeFrom(this.byUser, connection.user.id, connection)) this.tell(`user:${connection.user.id}`, false);
    for (const group of connection.groups)
      if (removeFrom(this.byGroup, group, connection)) this.tell(`group:${group}`, false);
    connection.groups.clear();
    if (this.everyone.size === 0) this.tell('all', false);
  }

  join(connection: HubConnection, group: string): void {
    if (!this.everyone.has(connection)) return;
    connection.groups.add(group);
    if (addTo(this.byGroup, group, connection)) this.tell(`group:${group}`, true);
  }

  leave(connection: HubConnection, group: string): void {
    connection.groups.delete(group);
    if (removeFrom(this.byGroup, group, connection)) this.tell(`group:${group}`, false);
  }

  group(name: string): ReadonlySet<HubConnection> {
    return this.byGroup.get(name) ?? NONE;
  }

  user(id: string): ReadonlySet<HubConnection> {
    return this.byUser.get(id) ?? NONE;
  }

  private tell(targetKey: string, present: boolean): void {
    for (const listener of this.listeners) listener(targetKey, present);
  }
}

/** Adds `connection` under `key`; true when it is the key's first. */
function addTo(index: Map<string, Set<HubConnection>>, key: string, connection: HubConnection): boolean {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(connection);
  return set.size === 1;
}

/** Removes `connection` from under `key`; true when the key had it as its last. */
function removeFrom(index: Map<string, Set<HubConnection>>, key: string, connection: HubConnection): boolean {
  const set = index.get(key);
  if (!set || !set.delete(connection)) return false;
  // Empty sets go, or every room ever joined would stay in memory.
  if (set.size > 0) return false;
  index.delete(key);
  return true;
}
