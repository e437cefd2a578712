import { Injectable } from '@nestjs/common';
import type { OutboundEnvelope } from '../envelope/envelope.interface';
import { FallbackChain } from '../fallback/fallback-chain';

/** The stages an envelope passes after mapping, in order: (coalescer) -> router and fallback chain. */
@Injectable()
export class PublishPipeline {
  constructor(private readonly chain: FallbackChain) {}

  submit(outbound: OutboundEnvelope): void {
    this.chain.enqueue(outbound);
  }
}
