import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * The machine's PostgreSQL, as the suites reach it (trust auth, see scripts/ensure-test-tools.sh);
 * `TEST_POSTGRES_URL` points them at another server.
 */
const SERVER_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A database of the suite's own on the test PostgreSQL server: created empty under a random name, dropped with
 * whatever is in it (and whoever is still connected) by `dispose`. Suites never see each other's tables or
 * depend on what a previous run left.
 */
export class PostgresTestDatabase {
  private constructor(readonly name: string) {}

  static async create(): Promise<PostgresTestDatabase> {
    const database = new PostgresTestDatabase(`realtime_test_${randomBytes(6).toString('hex')}`);
    await onServer(`CREATE DATABASE ${database.name}`);
    return database;
  }

  /** `DATABASE_URL` of this database; `port` to go through a proxy on 127.0.0.1 instead. */
  url(port?: number): string {
    const url = new URL(SERVER_URL);
    url.pathname = `/${this.name}`;
    if (port !== undefined) {
      url.hostname = '127.0.0.1';
      url.port = String(port);
    }
    return url.toString();
  }

  /** The server's port (what a proxy forwards to). */
  get serverPort(): number {
    return Number(new URL(SERVER_URL).port || 5432);
  }

  /** One statement in this database, on a connection of its own: what the tests check behind the service's back. */
  async query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]> {
    const client = new Client({ connectionString: this.url() });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as Row[];
    } finally {
      await client.end();
    }
  }

  async dispose(): Promise<void> {
    await onServer(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }
}

async function onServer(statement: string): Promise<void> {
  const client = new Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
