import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A file a documentation page shows in full: a fenced block whose info string names its path. */
export interface DocFile {
  path: string;
  content: string;
}

const TITLED_BLOCK = /^```[\w-]*\s+title="([^"]+)"\n([\s\S]*?)^```$/gm;

/** Every ```` ```lang title="path" ```` block of a page, in order; a path shown twice is a mistake in the page. */
export function docFiles(markdownPath: string): DocFile[] {
  const markdown = readFileSync(markdownPath, 'utf8');
  const files = [...markdown.matchAll(TITLED_BLOCK)].map(([, path, content]) => ({ path, content }));
  const paths = files.map((file) => file.path);
  const twice = paths.filter((path, i) => paths.indexOf(path) !== i);
  if (twice.length > 0) throw new Error(`${markdownPath} shows ${twice.join(', ')} more than once`);
  return files;
}

/** Writes the files of a page into `dir`, as a reader following it would. */
export function writeDocFiles(files: readonly DocFile[], dir: string): void {
  for (const { path, content } of files) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}
