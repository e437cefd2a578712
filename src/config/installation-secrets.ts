import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Env, readString } from './env-readers';
import { UnsafeConfigError } from './unsafe-config.error';

/** Shortest secret production accepts; generated ones are 32 random bytes (43 base64url characters). */
export const MIN_SECRET_LENGTH = 32;

export type SecretSource = 'environment' | 'generated' | 'secrets-file';

export interface ResolvedSecret {
  value: string;
  source: SecretSource;
}

/**
 * Where development secrets are kept: `REALTIME_SECRETS_FILE`, or `secrets.json` next to the SQLite file
 * (`data/secrets.json` by default), so the service, `npm run token` and a restart all find the same file. The same
 * place when `DATABASE_URL` moves the data to PostgreSQL: switching stores keeps the installation's secrets, and the
 * tokens signed with them.
 */
export function secretsFileOf(env: Env, databasePath: string): string {
  const configured = readString(env, 'REALTIME_SECRETS_FILE');
  if (configured) return resolve(configured);
  return resolve(databasePath === ':memory:' ? 'data' : dirname(databasePath), 'secrets.json');
}

/**
 * The secret this installation generated for `name`, created on first use: random per installation (never a
 * constant anyone can read in the source), kept in a file only its owner can read, reused on every later start.
 */
export function installationSecret(file: string, name: string): ResolvedSecret {
  for (;;) {
    const stored = readSecrets(file);
    const value = stored?.[name];
    if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) return { value, source: 'secrets-file' };
    const generated = randomBytes(32).toString('base64url');
    const content = `${JSON.stringify({ ...stored, [name]: generated }, null, 2)}\n`;
    // A first start creates the file only if it is still absent: when api and gateway start together, one wins
    // and the other reads the winner's secret on the next turn, so both hold the same one.
    if (writeSecrets(file, content, stored === undefined)) return { value: generated, source: 'generated' };
  }
}

/** The file's secrets, or undefined when there is no file yet. */
function readSecrets(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UnsafeConfigError(
      'REALTIME_SECRETS_FILE',
      `Cannot read the secrets file ${file}: ${(error as Error).message}.`,
    );
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UnsafeConfigError(
    'REALTIME_SECRETS_FILE',
    `The secrets file ${file} is not a JSON object: fix it, or delete it to generate new secrets (tokens signed with the old ones stop working).`,
  );
}

/**
 * Written to a temporary file first (mode 0600 from the first byte), so nobody ever reads half a file; then linked
 * into place when the file must not exist yet (false if it does by now), or renamed over the old one.
 */
function writeSecrets(file: string, content: string, create: boolean): boolean {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(file), `.secrets-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(temporary, content, { mode: 0o600, flag: 'wx' });
  try {
    chmodSync(temporary, 0o600); // whatever the umask
    if (!create) {
      renameSync(temporary, file);
      return true;
    }
    try {
      linkSync(temporary, file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}
