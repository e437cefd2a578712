import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installationSecret, secretsFileOf } from './installation-secrets';
import { loadServiceConfig } from './service.config';
import { UnsafeConfigError } from './unsafe-config.error';

const STRONG = 'x'.repeat(32);

describe('loadServiceConfig', () => {
  let dir: string;
  const env = (vars: Record<string, string> = {}) => ({ DATABASE_PATH: join(dir, 'chat.sqlite'), ...vars });
  const refusal = (vars: Record<string, string>) => {
    try {
      loadServiceConfig(env(vars));
    } catch (error) {
      return error;
    }
    throw new Error('expected a refusal');
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'service-config-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses REALTIME_TRANSPORT=in-process in a split role, where no gateway shares the process', () => {
    for (const role of ['api', 'gateway']) {
      expect(String(refusal({ REALTIME_ROLE: role, REALTIME_TRANSPORT: 'in-process' }))).toContain(
        `REALTIME_TRANSPORT must be redis-streams, http-bridge or dual with REALTIME_ROLE=${role}`,
      );
    }
    expect(loadServiceConfig(env({ REALTIME_TRANSPORT: 'in-process' })).role).toBe('all');
  });

  it('generates what is missing once in development, next to the database, and reads it back after', () => {
    const first = loadServiceConfig(env());
    expect(first.secretsFile).toBe(join(dir, 'secrets.json'));
    expect(first.secretSources).toEqual({ JWT_SECRET: 'generated', REALTIME_BRIDGE_SECRET: 'generated' });
    expect(statSync(first.secretsFile).mode & 0o777).toBe(0o600);
    const second = loadServiceConfig(env());
    expect(second.secretSources).toEqual({ JWT_SECRET: 'secrets-file', REALTIME_BRIDGE_SECRET: 'secrets-file' });
    expect([second.jwtSecret, second.bridgeSecret]).toEqual([first.jwtSecret, first.bridgeSecret]);
    expect(first).toMatchObject({
      production: false,
      roomsOpen: true,
      devTokens: true,
      bridgeReceiver: true,
      bridgePublisher: true,
    });
  });

  it('prefers the environment, and development tokens follow a chosen JWT secret off', () => {
    const config = loadServiceConfig(env({ JWT_SECRET: 'mine', REALTIME_BRIDGE_SECRET: 'ours' }));
    expect(config).toMatchObject({ jwtSecret: 'mine', bridgeSecret: 'ours', devTokens: false });
    expect(config.secretSources).toEqual({ JWT_SECRET: 'environment', REALTIME_BRIDGE_SECRET: 'environment' });
  });

  it.each([
    ['gateway', {}],
    ['api', { REALTIME_HTTP_BRIDGE_URL: 'http://gw:3000/internal/realtime/events' }],
    // Role all posting to other gateways: a generated secret would not be theirs.
    ['all', { REALTIME_HTTP_BRIDGE_URL: 'http://gw:3000/internal/realtime/events' }],
  ])('role %s with a bridge to another process needs a shared REALTIME_BRIDGE_SECRET', (role, vars) => {
    const error = refusal({ REALTIME_ROLE: role, ...vars });
    expect(error).toBeInstanceOf(UnsafeConfigError);
    expect(error).toMatchObject({
      setting: 'REALTIME_BRIDGE_SECRET',
      message: expect.stringMatching(/must share REALTIME_BRIDGE_SECRET/),
    });
  });

  it.each([
    ['gateway', { REALTIME_BRIDGE_RECEIVER: 'false' }],
    ['api', {}],
    ['all', { REALTIME_BRIDGE_RECEIVER: 'false' }],
  ])('role %s without a bridge needs no bridge secret, in production too', (role, vars) => {
    const config = loadServiceConfig(env({ NODE_ENV: 'production', JWT_SECRET: STRONG, REALTIME_ROLE: role, ...vars }));
    expect(config).toMatchObject({ bridgeReceiver: false, bridgePublisher: false, bridgeSecret: undefined });
    expect(config.secretSources).toEqual({ JWT_SECRET: 'environment' });
  });

  it('production: members-only rooms and no development tokens by default, nothing written', () => {
    const config = loadServiceConfig(
      env({ NODE_ENV: 'production', JWT_SECRET: STRONG, REALTIME_BRIDGE_SECRET: STRONG }),
    );
    expect(config).toMatchObject({ production: true, roomsOpen: false, devTokens: false });
    expect(() => statSync(config.secretsFile)).toThrow(/ENOENT/);
    expect(
      loadServiceConfig(
        env({ NODE_ENV: 'production', JWT_SECRET: STRONG, REALTIME_BRIDGE_SECRET: STRONG, ROOMS_OPEN: 'true' }),
      ).roomsOpen,
    ).toBe(true);
  });

  it('production with an identity provider: no JWT_SECRET needed, the same verification settings for REST and hub', () => {
    const config = loadServiceConfig(
      env({
        NODE_ENV: 'production',
        JWT_JWKS_URL: 'https://idp.example/jwks.json',
        JWT_AUDIENCE: 'chat',
        REALTIME_BRIDGE_SECRET: STRONG,
      }),
    );
    expect(config.jwtSecret).toBeUndefined();
    expect(config.jwt).toMatchObject({
      jwksUrl: 'https://idp.example/jwks.json',
      audience: ['chat'],
    });
    expect(config.jwt.secret).toBeUndefined();
    expect(config.devTokens).toBe(false);
    expect(() => loadServiceConfig(env({ JWT_JWKS_URL: 'https://idp.example/jwks.json', DEV_TOKENS: 'true' }))).toThrow(
      /DEV_TOKENS/,
    );
    expect(loadServiceConfig(env({ JWT_SECRET: 'mine', JWT_ISSUER: 'me' })).jwt).toMatchObject({
      secret: 'mine',
      issuer: ['me'],
    });
  });

  it('takes an optional HEALTH_TOKEN, short only outside production, and lists it as a secret from the environment', () => {
    expect(loadServiceConfig(env()).healthToken).toBeUndefined();
    const development = loadServiceConfig(env({ HEALTH_TOKEN: 'dev' }));
    expect(development.healthToken).toBe('dev');
    expect(development.secretSources.HEALTH_TOKEN).toBe('environment');
    const production = { NODE_ENV: 'production', JWT_SECRET: STRONG, REALTIME_BRIDGE_SECRET: STRONG };
    expect(loadServiceConfig(env({ ...production, HEALTH_TOKEN: STRONG })).healthToken).toBe(STRONG);
    expect(loadServiceConfig(env(production)).healthToken).toBeUndefined();
  });

  it.each(['postgres://chat:pw@db:5432/chat', 'postgresql://db/chat?sslmode=require'])(
    'takes DATABASE_URL %s for PostgreSQL; the secrets file stays next to DATABASE_PATH',
    (url) => {
      const config = loadServiceConfig(env({ DATABASE_URL: url }));
      expect(config.databaseUrl).toBe(url);
      expect(config.secretsFile).toBe(join(dir, 'secrets.json'));
      expect(loadServiceConfig(env()).databaseUrl).toBeUndefined();
    },
  );

  it.each([
    ['mysql://chat:hunter2@db/chat', /must be a PostgreSQL URL, postgres:\/\/.*got "mysql:\/\/chat:\*\*\*@db\/chat"/],
    ['mysql://db/chat?password=hunter2', /must be a PostgreSQL URL.*got "mysql:\/\/db\/chat\?password=\*\*\*"/],
    ['host=db password=hunter2', /must be a PostgreSQL URL.*got "\(not a URL\)"/],
    ['data/chat.sqlite', /leave it unset for SQLite \(DATABASE_PATH\)/],
  ])('refuses DATABASE_URL %s with a message that never shows the password', (url, message) => {
    const error = refusal({ DATABASE_URL: url }) as Error;
    expect(error).toMatchObject({ name: 'InvalidRealtimeConfigError', setting: 'DATABASE_URL' });
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('hunter2');
  });

  it.each([
    [{ NODE_ENV: 'production' }, 'JWT_SECRET', /JWT_SECRET is not set/],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(31) }, 'JWT_SECRET', /too short \(31 characters\)/],
    [{ NODE_ENV: 'production', JWT_SECRET: STRONG }, 'REALTIME_BRIDGE_SECRET', /REALTIME_BRIDGE_SECRET is not set/],
    [
      { NODE_ENV: 'production', JWT_SECRET: STRONG, REALTIME_BRIDGE_SECRET: STRONG, DEV_TOKENS: 'true' },
      'DEV_TOKENS',
      /refused/,
    ],
    [
      { NODE_ENV: 'production', JWT_SECRET: STRONG, REALTIME_BRIDGE_SECRET: STRONG, HEALTH_TOKEN: 'x'.repeat(31) },
      'HEALTH_TOKEN',
      /HEALTH_TOKEN is too short \(31 characters\)/,
    ],
  ])('refuses %j naming %s', (vars, setting, message) => {
    expect(refusal(vars)).toMatchObject({
      name: 'UnsafeConfigError',
      setting,
      message: expect.stringMatching(message),
    });
  });
});

describe('installation secrets file', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'installation-secrets-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('lives at REALTIME_SECRETS_FILE, or next to the database', () => {
    expect(secretsFileOf({ REALTIME_SECRETS_FILE: join(dir, 'a.json') }, 'db/chat.sqlite')).toBe(join(dir, 'a.json'));
    expect(secretsFileOf({}, join(dir, 'db', 'chat.sqlite'))).toBe(join(dir, 'db', 'secrets.json'));
  });

  it('keeps the secrets it has and adds the ones it lacks', () => {
    const file = join(dir, 'secrets.json');
    const jwt = installationSecret(file, 'JWT_SECRET');
    const bridge = installationSecret(file, 'REALTIME_BRIDGE_SECRET');
    expect([jwt.source, bridge.source]).toEqual(['generated', 'generated']);
    expect(installationSecret(file, 'JWT_SECRET')).toEqual({ value: jwt.value, source: 'secrets-file' });
    expect(installationSecret(file, 'REALTIME_BRIDGE_SECRET')).toEqual({ value: bridge.value, source: 'secrets-file' });
  });

  it('refuses a file that is not a JSON object, naming REALTIME_SECRETS_FILE', () => {
    const file = join(dir, 'secrets.json');
    writeFileSync(file, 'not json');
    expect(() => installationSecret(file, 'JWT_SECRET')).toThrow(
      expect.objectContaining({ setting: 'REALTIME_SECRETS_FILE' }),
    );
  });
});
