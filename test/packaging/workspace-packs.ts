import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './run-command';

export const ROOT = join(__dirname, '..', '..');

/** The published packages, in dependency order. */
export const PACKAGE_DIRS = [
  'libs/realtime-contracts',
  'libs/realtime-common',
  'libs/realtime-transport',
  'libs/realtime-gateway',
] as const;

export interface PackageManifest {
  name: string;
  version: string;
  main?: string;
  types?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  publishConfig?: { access?: string };
}

export interface PackedPackage {
  dir: string;
  manifest: PackageManifest;
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths inside the tarball, relative to the package root (as npm lists them). */
  files: string[];
}

interface NpmPackEntry {
  name: string;
  filename: string;
  files: Array<{ path: string }>;
}

export function readManifest(dir: string): PackageManifest {
  return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as PackageManifest;
}

/** `npm pack` of every package into `destination`, with npm's own list of what each tarball holds. */
export async function packWorkspaces(destination: string): Promise<PackedPackage[]> {
  const workspaceArgs = PACKAGE_DIRS.flatMap((dir) => ['--workspace', dir]);
  const { stdout } = await runCommand('npm', ['pack', ...workspaceArgs, '--pack-destination', destination, '--json'], {
    cwd: ROOT,
    timeoutMs: 120_000,
  });
  const entries = JSON.parse(stdout) as NpmPackEntry[];
  return PACKAGE_DIRS.map((dir) => {
    const manifest = readManifest(dir);
    const entry = entries.find((e) => e.name === manifest.name);
    if (!entry) throw new Error(`npm pack listed no tarball for ${manifest.name}: ${stdout}`);
    return { dir, manifest, tarball: join(destination, entry.filename), files: entry.files.map((f) => f.path) };
  });
}
