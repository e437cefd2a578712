import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './run-command';

const CONSUMER_SOURCE = join(__dirname, 'consumer', 'index.ts');

/**
 * The module settings an application may have, each with a plain tsconfig otherwise: strict, and neither
 * `skipLibCheck` nor `resolveJsonModule` (so a declaration that needs either fails here as it would there). Each run
 * checks every declaration file it reaches (Node's, Nest's, zod's: about 9 s here), so two settings that resolve
 * differently, not every name for the same resolution.
 */
export const CONSUMER_SETTINGS = {
  // The example's. nodenext resolves the same packages the same way, and is laxer: TS 5.9 let a .json import
  // in a declaration through there that node16 refuses (TS2732).
  node16: { module: 'node16', moduleResolution: 'node16' },
  // The classic resolution of older projects: no `exports` map, so `typesVersions` must lead to ./testing.
  // With esModuleInterop, which node16/nodenext imply and CommonJS projects set: zod's own declarations fail
  // without it (TS1259), whatever ours declare.
  node10: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
} as const;

export type ConsumerSetting = keyof typeof CONSUMER_SETTINGS;

/** Writes the consumer and one tsconfig per setting into `dir`, inside an installed application. */
export function writeConsumer(dir: string): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(CONSUMER_SOURCE, join(dir, 'index.ts'));
  for (const [name, settings] of Object.entries(CONSUMER_SETTINGS)) {
    const compilerOptions = { ...settings, target: 'ES2022', strict: true, noEmit: true };
    writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: ['index.ts'] }));
  }
}

/** `tsc -p tsconfig.<setting>.json` with the application's own TypeScript; rejects with tsc's errors. */
export async function typeCheckConsumer(dir: string, appDir: string, setting: ConsumerSetting): Promise<void> {
  const tsc = join(appDir, 'node_modules', 'typescript', 'bin', 'tsc');
  await runCommand(process.execPath, [tsc, '-p', join(dir, `tsconfig.${setting}.json`)], {
    cwd: dir,
    timeoutMs: 120_000,
  });
}
