import { Injectable } from '@nestjs/common';
import { EventCoalescer } from '../coalescing/event.coalescer';
import type { OutboundEnvelope } from '@realtime-streams/contracts';
import { FallbackChain } from '../fallback/fallback-chain';

/** The stages an envelope passes after mapping, in order: coalescer (for coalesced events) -> fallback chain. */
@Injectable()
export class PublishPipeline {
  constructor(
    private readonly coalescer: EventCoalescer,
    private readonly chain: FallbackChain,
  ) {}

  submit(outbound: OutboundEnvelope): void {
    if (outbound.supersedesKey !== undefined) this.coalescer.supersede(outbound.supersedesKey);
    if (outbound.coalesceKey !== undefined) this.coalescer.accept(outbound);
    else this.chain.enqueue(outbound);
  }

  /** An envelope whose outbox record is committed (never coalesced): straight to the chain, never dropped. */
  submitDurable(outbound: OutboundEnvelope): void {
    if (outbound.supersedesKey !== undefined) this.coalescer.supersede(outbound.supersedesKey);
    this.chain.enqueueDurable(outbound);
  }
}
