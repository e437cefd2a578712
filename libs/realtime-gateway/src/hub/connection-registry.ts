import type { HubConnection } from './hub-connection';

const NONE: ReadonlySet<HubConnection> = new Set();

/** Connections by group and by user, so routing an envelope is one lookup. */
export class ConnectionRegistry {
  private readonly everyone = new Set<HubConnection>();
  private readonly byGroup = new Map<string, Set<HubConnection>>();
  private readonly byUser = new Map<string, Set<HubConnection>>();

  get size(): number {
    return this.everyone.size;
  }

  get all(): ReadonlySet<HubConnection> {
    return this.everyone;
  }

  add(connection: HubConnection): void {
    this.everyone.add(connection);
    addTo(this.byUser, connection.user.id, connection);
  }

  remove(connection: HubConnection): void {
    if (!this.everyone.delete(connection)) return;
    removeFrom(this.byUser, connection.user.id, connection);
    for (const group of connection.groups) removeFrom(this.byGroup, group, connection);
    connection.groups.clear();
  }

  join(connection: HubConnection, group: string): void {
    if (!this.everyone.has(connection)) return;
    connection.groups.add(group);
    addTo(this.byGroup, group, connection);
  }

  leave(connection: HubConnection, group: string): void {
    connection.groups.delete(group);
    removeFrom(this.byGroup, group, connection);
  }

  group(name: string): ReadonlySet<HubConnection> {
    return this.byGroup.get(name) ?? NONE;
  }

  user(id: string): ReadonlySet<HubConnection> {
    return this.byUser.get(id) ?? NONE;
  }
}

function addTo(index: Map<string, Set<HubConnection>>, key: string, connection: HubConnection): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(connection);
}

function removeFrom(index: Map<string, Set<HubConnection>>, key: string, connection: HubConnection): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(connection);
  // Empty sets go, or every room ever joined would stay in memory.
  if (set.size === 0) index.delete(key);
}
