/** A stored chat message, as the API returns it and clients receive it (`ReceiveMessage(message)`). */
export interface ChatMessage {
  readonly id: string;
  readonly roomId: string;
  readonly userId: string;
  readonly text: string;
  readonly createdAt: string;
  /**
   * The same instant as `createdAt`, in epoch milliseconds with sub-millisecond precision: what delivery latency is
   * measured from (the demo page's live figure, the end-to-end benchmark).
   */
  readonly acceptedAt: number;
  /**
   * The message's place in its room, from 1, with no gaps: the order the database committed the room's messages in.
   * The envelope carries it (`seq`), so every gateway delivers a room in this order whichever api instance published
   * what; a client can tell from it whether it holds every message below the last one it has.
   */
  readonly seq: number;
}
