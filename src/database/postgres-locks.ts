/**
 * Keys of the transaction-scoped advisory locks (`pg_advisory_xact_lock(namespace, key)`), in a namespace of their
 * own so they never meet another application's locks in a shared database. The two-key form and the one-key form
 * do not share a key space.
 */
export const LOCK_NAMESPACE = 0x52544348; // 'RTCH'

/** Held while the schema is created: instances starting together would otherwise race on `CREATE ... IF NOT EXISTS`. */
export const SCHEMA_LOCK = 1;

/** Held from an outbox insert to its commit, so record cursors commit in cursor order (see PostgresOutboxStore). */
export const OUTBOX_LOCK = 2;

/** Messages of a room take `hashtext(room_id)` as key in this namespace (see PostgresMessageRepository). */
export const ROOM_LOCK_NAMESPACE = 0x52544d31; // 'RTM1'
