import { Injectable } from '@nestjs/common';
import type { OutboundEnvelope } from '@realtime-streams/contracts';

/** Receives envelopes published in the same process (the gateway registers one; tests do too). */
export type InProcessSink = (batch: readonly OutboundEnvelope[]) => void | Promise<void>;

/** Where the in-process transport finds its sink. One per application, so publisher and gateway meet here. */
@Injectable()
export class InProcessSinkRegistry {
  private current?: InProcessSink;

  get sink(): InProcessSink | undefined {
    return this.current;
  }

  /** Registers the sink; returns a function that unregisters it. */
  register(sink: InProcessSink): () => void {
    this.current = sink;
    return () => {
      if (this.current === sink) this.current = undefined;
    };
  }
}
