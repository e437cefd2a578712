import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import type { PackedPackage } from './workspace-packs';

export interface UndeclaredImport {
  /** The .d.ts, relative to the package root. */
  file: string;
  specifier: string;
}

// Every way a declaration file names another module: import/export ... from, import("…") types, require, side-effect
// imports and triple-slash type references.
const SPECIFIER_PATTERNS = [
  /\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /^\s*\/\/\/\s*<reference\s+types\s*=\s*['"]([^'"]+)['"]/gm,
];

/**
 * Bare module specifiers in the package's declaration files that its consumers cannot resolve for sure: neither a
 * Node builtin, nor the package itself, nor one of its dependencies or peers. Such an import works inside the
 * monorepo (hoisting puts every package in the root node_modules) and breaks, or silently types as `any` under
 * `skipLibCheck`, in an application that does not happen to install the same package.
 */
export function undeclaredImports(pack: PackedPackage, packageRoot: string): UndeclaredImport[] {
  const declared = new Set([
    pack.manifest.name,
    ...Object.keys(pack.manifest.dependencies ?? {}),
    ...Object.keys(pack.manifest.peerDependencies ?? {}),
  ]);
  return declarationImports(pack, packageRoot).filter(
    ({ specifier }) => !isRelative(specifier) && !isNodeBuiltin(specifier) && !declared.has(packageNameOf(specifier)),
  );
}

/**
 * Imports in the package's declaration files of a peer it declares optional. An application without that peer then
 * fails to type-check the package (TS2307) unless it sets `skipLibCheck`: a package that runs without a peer must
 * type-check without it too.
 */
export function optionalPeerImports(pack: PackedPackage, packageRoot: string): UndeclaredImport[] {
  const optional = new Set(
    Object.entries(pack.manifest.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta.optional === true)
      .map(([name]) => name),
  );
  return declarationImports(pack, packageRoot).filter(({ specifier }) => optional.has(packageNameOf(specifier)));
}

function declarationImports(pack: PackedPackage, packageRoot: string): UndeclaredImport[] {
  return pack.files
    .filter((path) => path.endsWith('.d.ts'))
    .flatMap((file) =>
      [...moduleSpecifiers(readFileSync(join(packageRoot, file), 'utf8'))].map((specifier) => ({ file, specifier })),
    );
}

export function moduleSpecifiers(source: string): Set<string> {
  // Doc comments hold @example code (`import { X } from '…'`) that is not an import of the file. Only comments
  // that open a line, as tsc writes them: a `/*` inside a string (a glob such as 'dist/**/*.js') is no comment.
  const code = source.replace(/^\s*\/\*[\s\S]*?\*\//gm, '').replace(/^\s*\/\/(?!\/).*$/gm, '');
  const specifiers = new Set<string>();
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const match of code.matchAll(pattern)) specifiers.add(match[1]);
  }
  return specifiers;
}

function isRelative(specifier: string): boolean {
  return specifier.startsWith('.') || specifier.startsWith('/');
}

function isNodeBuiltin(specifier: string): boolean {
  // `/// <reference types="node" />` is what tsc writes for Buffer, NodeJS.*: Node's own types, not a package.
  return specifier.startsWith('node:') || specifier === 'node' || builtinModules.includes(specifier);
}

/** `@scope/name/sub/path` → `@scope/name`, `name/sub` → `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
