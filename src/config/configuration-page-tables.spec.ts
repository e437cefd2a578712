import { readFileSync } from 'node:fs';
import { CONFIGURATION_PAGE, GENERATED_TABLES } from '../../scripts/config-tables';

/** Table rows with the padding Prettier adds removed, so the comparison is about content only. */
function rows(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .split('|')
        .map((cell) => cell.trim())
        .join('|'),
    );
}

describe('the configuration reference (docs/configuration.md)', () => {
  const readme = readFileSync(CONFIGURATION_PAGE, 'utf8');

  it.each(Object.entries(GENERATED_TABLES))('match the %s schema (run `npm run docs:config`)', (name, table) => {
    const block = readme.slice(
      readme.indexOf(`<!-- config:${name}:start -->`),
      readme.indexOf(`<!-- config:${name}:end -->`),
    );
    expect(rows(block)).toEqual(rows(table()));
    expect(rows(table()).length).toBeGreaterThan(10);
  });
});
