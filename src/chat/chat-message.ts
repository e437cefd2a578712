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
}
