/** What the cluster suites share: posting to rooms, and counting per client what arrived. */
import { deliveryReport, type GapFillingClient } from '../support/gap-filling-client';
import { listAll, postSteadily } from '../support/post-steadily';
import { eventually } from '../support/stream-reader';
import type { ClusterDeployment } from './cluster-deployment';

/** Posts `count` numbered messages to every room at `perSecond` in all, each room through its own api. */
export async function postToRooms(
  deployment: ClusterDeployment,
  rooms: readonly string[],
  count: number,
  perSecond: number,
) {
  await Promise.all(rooms.map((room) => postSteadily(deployment.apiFor(room), room, count, perSecond / rooms.length)));
}

/** Every client of every room shows every stored message of its room once, in order; the counts per client. */
export async function reportsOf(
  deployment: ClusterDeployment,
  byRoom: Map<string, GapFillingClient[]>,
  expected: number,
) {
  const reports = [];
  for (const [room, clients] of byRoom) {
    const stored = await listAll(deployment.apiFor(room), room);
    expect(stored).toHaveLength(expected);
    // One store: the other api lists the same messages, in the same order.
    const listedByOther = await listAll(deployment.otherApiFor(room), room);
    expect(listedByOther.map((m) => m.id)).toEqual(stored.map((m) => m.id));
    await eventually(async () => {
      await Promise.all(clients.map((c) => c.settled()));
      for (const client of clients) expect(client.shown.length).toBeGreaterThanOrEqual(expected);
    }, 20_000);
    for (const client of clients)
      reports.push({
        room,
        ...deliveryReport(stored, client.shown),
        liveDuplicates: client.liveDuplicates,
        reconnects: client.reconnects,
      });
  }
  return reports;
}

/** `realtime_consumer_gaps_total` summed over the gateways. */
export async function consumerGaps(deployment: ClusterDeployment): Promise<number> {
  let sum = 0;
  for (const gateway of deployment.gateways) {
    const match = /^realtime_consumer_gaps_total(?:\{[^}]*\})? (\d+)/m.exec(await gateway.metrics());
    sum += Number(match?.[1] ?? 0);
  }
  return sum;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Report = { lost: number; duplicated: number; outOfOrder: number; reconnects: number };

/** The per-client reports summed, with how many clients they cover. */
export function totals(reports: Report[]): Report & { clients: number } {
  const sum = { clients: 0, lost: 0, duplicated: 0, outOfOrder: 0, reconnects: 0 };
  for (const r of reports) {
    sum.clients++;
    sum.lost += r.lost;
    sum.duplicated += r.duplicated;
    sum.outOfOrder += r.outOfOrder;
    sum.reconnects += r.reconnects;
  }
  return sum;
}
