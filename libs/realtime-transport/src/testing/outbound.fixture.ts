import type { OutboundEnvelope, RealtimeTarget } from '@realtime-streams/contracts';
import { targetKeyOf } from '@realtime-streams/contracts';

let sequence = 0;

/** A serialized envelope for tests of the stages after mapping. */
export function outbound(
  target: RealtimeTarget = { kind: 'group', name: 'room:1' },
  volatile = false,
): OutboundEnvelope {
  const envelope = {
    v: 1 as const,
    id: `test-${++sequence}`,
    type: 'test.event',
    target,
    method: 'Receive',
    args: [sequence],
    ts: Date.now(),
    volatile,
  };
  return {
    envelope,
    json: JSON.stringify(envelope),
    targetKey: targetKeyOf(target),
    argsJson: JSON.stringify(envelope.args),
  };
}
