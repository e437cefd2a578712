/** A stored chat message, as the API returns it and clients receive it (`ReceiveMessage(message)`). */
export interface ChatMessage {
  readonly id: string;
  readonly roomId: string;
  readonly userId: string;
  readonly text: string;
  readonly createdAt: string;
}
