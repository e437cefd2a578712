import { parseGatewayEnv } from '@realtime-streams/gateway';
import { resolveGatewayOptions } from '@realtime-streams/gateway/testing';
import { parseRealtimeEnv } from '@realtime-streams/transport';
import { resolveRealtimeOptions } from '@realtime-streams/transport/testing';
import { parse } from 'dotenv';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_EXAMPLE, envExample } from '../../scripts/env-example';
import { SERVICE_SECRETS, SERVICE_SETTINGS } from '../../scripts/service-settings';
import { loadServiceConfig } from './service.config';

const SRC = join(__dirname, '..');

/** Every `NAME` the service's code reads: `anyReader(env, 'NAME')` and `process.env.NAME`. */
function variablesReadBy(dir: string): string[] {
  const names = new Set<string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.spec.ts')) continue;
    const source = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const match of source.matchAll(/\b\w+\(\s*env,\s*'([A-Z][A-Z0-9_]*)'/g)) names.add(match[1]);
    for (const match of source.matchAll(/\bprocess\.env\.([A-Z][A-Z0-9_]*)/g)) names.add(match[1]);
  }
  return [...names].sort();
}

describe('.env.example', () => {
  const file = readFileSync(ENV_EXAMPLE, 'utf8');

  it("is what the packages' schemas and scripts/service-settings.ts make (run `npm run docs:env`)", () => {
    expect(file.split('\n')).toEqual(envExample().split('\n'));
  });

  it('lists every variable the reference service reads', () => {
    const listed = new Set([...file.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]));
    const read = variablesReadBy(SRC);
    expect(read).toEqual(expect.arrayContaining(['DATABASE_PATH', 'JWT_SECRET', 'PORT', 'REALTIME_ENV_FILE']));
    expect(read.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('changes nothing copied as it is: each package resolves it as it resolves an empty environment', () => {
    const env = parse(file);
    // The service gives these its own defaults (REALTIME_HUB_PATH, REALTIME_ENV_FILE): checked in the next test.
    for (const { name } of SERVICE_SETTINGS) delete env[name];
    expect(resolveRealtimeOptions(parseRealtimeEnv(env))).toEqual(resolveRealtimeOptions(parseRealtimeEnv({})));
    // The gateway needs a way to verify tokens; the file leaves JWT_SECRET to the service.
    const secret = { JWT_SECRET: 'x'.repeat(40) };
    expect(resolveGatewayOptions(parseGatewayEnv({ ...env, ...secret }))).toEqual(
      resolveGatewayOptions(parseGatewayEnv(secret)),
    );
  });

  it("gives the reference service's own defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-example-'));
    try {
      // Development, nothing set: what the service does with the file's empty values (secrets generated in `dir`).
      const config = loadServiceConfig({ REALTIME_SECRETS_FILE: join(dir, 'secrets.json') });
      const checked = [...SERVICE_SECRETS, ...SERVICE_SETTINGS].filter((setting) => setting.field !== undefined);
      expect(checked.length).toBeGreaterThan(5);
      for (const { name, field, defaultValue } of checked) {
        const value = config[field!] as string | number | boolean | undefined;
        expect({ name, value: value === undefined ? '' : `${value}` }).toEqual({ name, value: defaultValue ?? '' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
