/** A room as `POST /rooms` returns it. */
export interface Room {
  readonly id: string;
  readonly createdBy: string;
  readonly createdAt: string;
  /** User ids, sorted. */
  readonly members: string[];
}
