/** The message and close listeners of an HTTP transport's socket; close fires once. */
export class SocketListeners {
  private message?: (data: Buffer, binary: boolean) => void;
  private readonly closeListeners: Array<() => void> = [];
  private closed = false;

  onMessage(listener: (data: Buffer, binary: boolean) => void): void {
    this.message = listener;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** A POST's body, to the hub. */
  received(data: Buffer, binary: boolean): void {
    this.message?.(data, binary);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  closedNow(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
