import { join } from 'node:path';
import { docFiles } from '../packaging/doc-files';

const ROOT = join(__dirname, '..', '..');

/**
 * Code shown in the docs is compiled and run: the getting-started page's files by the packaging suite, which writes
 * them out, builds and runs them. A file the README shows is one of those, word for word.
 */
describe('the README shows code the getting-started page builds', () => {
  const gettingStarted = new Map(docFiles(join(ROOT, 'docs', 'getting-started.md')).map((f) => [f.path, f.content]));

  it.each(docFiles(join(ROOT, 'README.md')).map((file) => [file.path, file.content]))(
    '%s is the getting-started file of that name',
    (path, content) => {
      expect(content).toBe(gettingStarted.get(path));
    },
  );

  it('shows every file of the app, one block each', () => {
    expect([...gettingStarted.keys()].sort()).toEqual(
      [
        '.env',
        'package.json',
        'src/app.module.ts',
        'src/client.ts',
        'src/health.controller.ts',
        'src/main.ts',
        'src/notification.event.ts',
        'src/notify.controller.ts',
        'src/token.ts',
        'tsconfig.json',
      ].sort(),
    );
  });
});
