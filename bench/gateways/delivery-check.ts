import type { ClientReceipts } from './gateways-protocol';

/** A message the api accepted (201): its id and its number in its room. */
export interface AcceptedMessage {
  id: string;
  seq: number;
}

export interface DeliveryCheck {
  /** Every accepted message of a client's room, to that client (connected clients only). */
  expected: number;
  /** Expected deliveries that arrived, once counted. */
  delivered: number;
  lost: number;
  /** Deliveries of a message the client already had. */
  duplicated: number;
  /** Deliveries of a message numbered below one the client already had. */
  outOfOrder: number;
  /** Deliveries of a message the api never answered 201 for (a post the bench counted as failed). */
  unexpected: number;
}

/**
 * Counts by message id, per client: every message accepted for its room must arrive exactly once, in the room's
 * order (`seq`, the order the api committed them in).
 */
export function checkDeliveries(
  accepted: ReadonlyMap<string, readonly AcceptedMessage[]>,
  receipts: readonly ClientReceipts[],
): DeliveryCheck {
  const ranks = new Map<string, Map<string, number>>();
  for (const [room, messages] of accepted) {
    const ordered = [...messages].sort((a, b) => a.seq - b.seq);
    ranks.set(room, new Map(ordered.map((m, rank) => [m.id, rank])));
  }
  const check: DeliveryCheck = { expected: 0, delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0 };
  for (const client of receipts) {
    const rankOf = ranks.get(client.room) ?? new Map<string, number>();
    const seen = new Set<string>();
    let highest = -1;
    for (const id of client.ids) {
      const rank = rankOf.get(id);
      if (rank === undefined) check.unexpected++;
      else if (seen.has(id)) check.duplicated++;
      else {
        seen.add(id);
        if (rank < highest) check.outOfOrder++;
        highest = Math.max(highest, rank);
      }
    }
    check.expected += rankOf.size;
    check.delivered += seen.size;
    check.lost += rankOf.size - seen.size;
  }
  return check;
}
