import { BRIDGE_SECRET } from '../support/gateway-app';
import type { TestClient } from '../support/signalr-client';
import { registryMetric } from '../support/metrics';
import { eventually } from '../support/stream-reader';

let sequence = 0;

/** A valid envelope, as the publisher would write it. */
export function envelope(target: object, args: unknown[] = [{ n: ++sequence }], extra: Record<string, unknown> = {}) {
  return {
    v: 1,
    id: `env-${Date.now()}-${++sequence}`,
    type: 'test.event',
    target,
    method: 'ReceiveMessage',
    args,
    ts: Date.now(),
    volatile: false,
    ...extra,
  };
}

/** POSTs a batch to a gateway's bridge receiver. */
export async function postBridge(
  bridgeUrl: string,
  batch: unknown,
  secret = BRIDGE_SECRET,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(bridgeUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: typeof batch === 'string' ? batch : JSON.stringify(batch),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The stock client next to a bad one still works (the server and other connections are unaffected): an envelope to
 * its `group` reaches it, and it is still connected.
 */
export async function stillServed(bystander: TestClient, bridgeUrl: string, group = 'watch'): Promise<void> {
  const before = bystander.of('ReceiveMessage').length;
  await postBridge(bridgeUrl, [envelope({ kind: 'group', name: group })]);
  await eventually(() => expect(bystander.of('ReceiveMessage')).toHaveLength(before + 1));
  expect(bystander.connection.state).toBe('Connected');
}

/** A metric's value summed over the series whose labels include `labels`. */
export const metric = registryMetric;
