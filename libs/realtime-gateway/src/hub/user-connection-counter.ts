/** Open hub sockets per user, for the per-user connection bound (negotiated tokens are counted where they wait). */
export class UserConnectionCounter {
  private readonly open = new Map<string, number>();

  of(userId: string): number {
    return this.open.get(userId) ?? 0;
  }

  add(userId: string): void {
    this.open.set(userId, this.of(userId) + 1);
  }

  remove(userId: string): void {
    const count = this.of(userId) - 1;
    // Users without sockets leave the map, or every user ever connected would stay in memory.
    if (count > 0) this.open.set(userId, count);
    else this.open.delete(userId);
  }
}
