// Writes the configuration reference's tables (docs/configuration.md) from the packages' schemas
// (`npm run docs:config`); a unit spec fails when the page and the schemas disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configTable } from '@realtime-streams/common';
import { realtimeGatewaySchema } from '@realtime-streams/gateway';
import { realtimeTransportSchema } from '@realtime-streams/transport';
import { SERVICE_SECRETS, SERVICE_SETTINGS } from './service-settings';

export const CONFIGURATION_PAGE = join(__dirname, '..', 'docs', 'configuration.md');

export const GENERATED_TABLES = {
  service: () => serviceTable(),
  transport: () => configTable(realtimeTransportSchema),
  gateway: () => configTable(realtimeGatewaySchema),
};

/** The reference service's own variables (read by hand in src/config, declared in service-settings.ts). */
function serviceTable(): string {
  const rows = [...SERVICE_SETTINGS, ...SERVICE_SECRETS].map(({ name, doc, defaultValue }) => [
    `\`${name}\``,
    defaultValue === undefined ? '(see its text)' : `\`${defaultValue}\``,
    doc.replace(/\|/g, '\\|'),
  ]);
  return (
    [['Variable', 'Default', 'What it does'], ['---', '---', '---'], ...rows]
      .map((cells) => `| ${cells.join(' | ')} |`)
      .join('\n') + '\n'
  );
}

export function withTables(readme: string): string {
  let text = readme;
  for (const [name, table] of Object.entries(GENERATED_TABLES)) {
    const start = `<!-- config:${name}:start -->`;
    const end = `<!-- config:${name}:end -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/configuration.md has no ${start} ... ${end} block`);
    text = text.slice(0, from + start.length) + '\n\n' + table() + '\n' + text.slice(to);
  }
  return text;
}

if (require.main === module) writeFileSync(CONFIGURATION_PAGE, withTables(readFileSync(CONFIGURATION_PAGE, 'utf8')));
