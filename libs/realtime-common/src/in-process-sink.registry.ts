import { Injectable } from '@nestjs/common';
import type { OutboundEnvelope } from '@realtime-streams/contracts';

/** Receives envelopes published in the same process (the gateway registers one; tests do too). */
export type InProcessSink = (batch: readonly OutboundEnvelope[]) => void | Promise<void>;

/** Where the in-process transport finds its sink. One per application, so publisher and gateway meet here. */
@Injectable()
export class InProcessSinkRegistry {
  private current?: InProcessSink;
  private everRegistered = false;
  private readonly waiting: Array<() => void> = [];

  get sink(): InProcessSink | undefined {
    return this.current;
  }

  /** Registers the sink; returns a function that unregisters it. */
  register(sink: InProcessSink): () => void {
    this.current = sink;
    this.everRegistered = true;
    for (const resolve of this.waiting.splice(0)) resolve();
    return () => {
      if (this.current === sink) this.current = undefined;
    };
  }

  /**
   * Resolves once a sink is registered: at once when one is, or was and went (then the caller finds none). Start-up
   * hooks of the publisher and of the gateway that registers the sink run in either order; a health probe that
   * waits here does not report the first moments of a healthy start as down. Callers bound the wait.
   */
  registered(): Promise<void> {
    if (this.current || this.everRegistered) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
