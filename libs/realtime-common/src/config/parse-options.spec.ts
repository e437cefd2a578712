import { z } from 'zod';
import { InvalidRealtimeConfigError } from '../invalid-realtime-config.error';
import { UnknownRealtimeOptionError } from '../unknown-realtime-option.error';
import { optionsFromEnv, type SettingSources } from './options-from-env';
import { parseOptions } from './parse-options';
import { codeOnly, integer, section, setting, urlOf } from './setting';

const schema = z.object({
  name: setting(z.string().min(1).max(10).optional(), { env: 'APP_NAME', doc: 'A name.' }),
  code: setting(z.string().min(3).optional(), { doc: 'A code of three characters or more.' }),
  secret: setting(z.string().min(32).optional(), { env: 'APP_SECRET', doc: 'A secret.', secret: true }),
  shards: setting(integer(1, 1024).default(1), { env: 'APP_SHARDS', doc: 'Shards.' }),
  ratio: setting(z.number().min(0).default(0.5), { env: 'APP_RATIO', doc: 'A ratio.' }),
  on: setting(z.boolean().default(true), { env: 'APP_ON', doc: 'On or off.' }),
  mode: setting(z.enum(['fast', 'safe', 'off']).default('safe'), { env: 'APP_MODE', doc: 'A mode.' }),
  kinds: setting(
    z
      .array(z.enum(['a', 'b']))
      .min(1)
      .default(['a']),
    { env: 'APP_KINDS', doc: 'Kinds.' },
  ),
  origins: setting(z.union([z.literal('*'), z.array(z.string().min(1))]).default([]), { env: 'APP_ORIGINS', doc: 'x' }),
  url: setting(urlOf(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'), { env: 'APP_URL', doc: 'Redis.' }),
  prefix: setting(
    z
      .string()
      .regex(/^[^{}]+$/, 'a prefix with no { or }')
      .default('p'),
    { env: 'APP_PREFIX', doc: 'x' },
  ),
  slug: setting(
    z
      .string()
      .regex(/^[a-z]+$/)
      .optional(),
    { doc: 'Lower-case letters.' },
  ),
  hook: codeOnly<() => void>((value) => typeof value === 'function', 'a function').optional(),
  redis: section(
    z.object({
      streamKeyPrefix: setting(z.string().default('realtime'), { env: 'APP_REDIS_PREFIX', doc: 'Prefix.' }),
      shards: setting(integer(1, 64).default(1), { doc: 'Shards.' }),
      /** The application's own client options: anything goes. */
      options: codeOnly<object>((value) => typeof value === 'object', 'client options').optional(),
    }),
    { toggle: 'APP_REDIS' },
  ).optional(),
  nested: z
    .object({ deep: z.object({ value: setting(integer(0, 9).default(0), { doc: 'x' }) }).prefault({}) })
    .prefault({}),
});

/** The error `parseOptions` throws for `input` (given in code) or for `env` (through the environment). */
function refusal(input: object, env?: Record<string, string>): InvalidRealtimeConfigError {
  try {
    if (env) {
      const sources: SettingSources = new Map();
      parseOptions(schema, optionsFromEnv(schema, env, sources), sources);
    } else {
      parseOptions(schema, input);
    }
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRealtimeConfigError);
    return error as InvalidRealtimeConfigError;
  }
  throw new Error('expected a refusal');
}

describe('parseOptions: unknown keys', () => {
  it.each([
    [{ shard: 2 }, 'shard', 'shards'],
    [{ redis: { shard: 2 } }, 'redis.shard', 'redis.shards'],
    [{ redis: { streamKeyPrefx: 'rt' } }, 'redis.streamKeyPrefx', 'redis.streamKeyPrefix'],
    // The right name at the wrong level.
    [{ streamKeyPrefix: 'rt' }, 'streamKeyPrefix', 'redis.streamKeyPrefix'],
    [{ nested: { deep: { valeu: 1 } } }, 'nested.deep.valeu', 'nested.deep.value'],
  ])('refuses %j naming %s and suggesting %s', (input, option, suggestion) => {
    const error = refusal(input);
    expect(error).toBeInstanceOf(UnknownRealtimeOptionError);
    expect(error).toMatchObject({ option, suggestion });
    expect(error.message).toBe(
      `Invalid realtime configuration: ${option} is not an option. Did you mean ${suggestion}? ` +
        'Fix its name or remove it (unknown options are refused, not ignored).',
    );
  });

  it('lists the options at that level when none is close', () => {
    expect(refusal({ redis: { compression: true } }).message).toMatch(
      /redis.compression is not an option. The options there are: streamKeyPrefix, shards, options\./,
    );
  });

  it("does not look into values the application passes whole (a client's options, hooks)", () => {
    expect(parseOptions(schema, { redis: { options: { anything: 1 } }, hook: () => undefined }).redis).toMatchObject({
      options: { anything: 1 },
    });
  });
});

describe('parseOptions: every kind of problem in plain words', () => {
  it.each([
    ['a string too short (empty)', { name: '' }, 'name must be a non-empty string, got "".'],
    ['a string too short', { code: 'ab' }, 'code must be at least 3 characters long, got "ab".'],
    ['a string too long', { name: 'x'.repeat(11) }, 'name must be at most 10 characters long, got "xxxxxxxxxxx".'],
    ['an integer out of range', { shards: 0 }, 'shards must be an integer between 1 and 1024, got 0.'],
    ['a number below its minimum', { ratio: -1 }, 'ratio must be a number of at least 0, got -1.'],
    ['a number of the wrong type', { shards: '4' }, 'shards must be an integer between 1 and 1024, got "4".'],
    ['a boolean of the wrong type', { on: 'yes' }, 'on must be true or false, got "yes".'],
    ['a value not in the enum', { mode: 'slow' }, 'mode must be one of fast, safe or off, got "slow".'],
    ['a list item not in the enum', { kinds: ['c'] }, 'kinds must be one of a or b, got "c".'],
    ['an empty list', { kinds: [] }, 'kinds must be a list of at least 1 item, got [].'],
    ['a union', { origins: 5 }, 'origins must be "*" or a list, got 5.'],
    ['a refinement (custom)', { url: 'http://x' }, 'url must be a URL starting with redis:// or rediss://'],
    ['a pattern with words', { prefix: 'a{b}' }, 'prefix must be a prefix with no { or }, got "a{b}".'],
    ['a pattern without words', { slug: 'A' }, 'slug must be text matching /^[a-z]+$/, got "A".'],
    ['a code-only value', { hook: 42 }, 'hook must be a function, got 42.'],
    ['an object of the wrong type', { redis: 'redis://x' }, 'redis must be an object, got "redis://x".'],
  ])('%s', (_kind, input, message) => {
    const error = refusal(input);
    expect(error.message).toContain(`Invalid realtime configuration: ${message}`);
    expect(error.message).not.toMatch(/Invalid (input|option|string)|expected/);
  });

  it('says how to fix a value given in code, naming its environment variable and its default', () => {
    expect(refusal({ shards: 0 }).message).toMatch(
      /Fix shards in the module options \(forRoot\/forRootAsync\) or APP_SHARDS in the environment, or leave it out to use the default \(1\)\.$/,
    );
    expect(refusal({ code: 'ab' }).message).toMatch(/Fix code in the module options \(forRoot\/forRootAsync\), or/);
  });

  it('names the variable and the option for a value from the environment, and how to fix it', () => {
    expect(refusal({}, { APP_SHARDS: '0' }).message).toBe(
      'Invalid realtime configuration: APP_SHARDS (shards) must be an integer between 1 and 1024, got 0. ' +
        'Fix APP_SHARDS, or unset it to use the default (1).',
    );
    expect(refusal({}, { APP_MODE: 'slow' }).message).toMatch(
      /^Invalid realtime configuration: APP_MODE \(mode\) must be one of fast, safe or off, got "slow"\. Fix APP_MODE, or unset it to use the default \(safe\)\.$/,
    );
    expect(refusal({}, { APP_KINDS: 'a,c' }).message).toMatch(/APP_KINDS \(kinds\) must be one of a or b, got "c"/);
  });

  it('names the variable and the option it sets when the value cannot even be read', () => {
    expect(refusal({}, { APP_SHARDS: 'many' }).message).toBe(
      'Invalid realtime configuration: APP_SHARDS must be an integer between 1 and 1024, got "many". ' +
        'APP_SHARDS sets shards: fix it, or unset it to use the default (1).',
    );
    expect(refusal({}, { APP_ON: 'maybe' }).message).toMatch(
      /APP_ON must be true or false, got "maybe"\. APP_ON sets on: set it to true or false \(1\/0, yes\/no and on\/off work too\), or unset it to use the default \(true\)\.$/,
    );
    expect(refusal({}, { APP_REDIS: 'disabled' }).message).toMatch(
      /APP_REDIS must be true or false, got "disabled"\. APP_REDIS turns redis on or off/,
    );
  });

  it('never shows a secret, only its length', () => {
    const error = refusal({}, { APP_SECRET: 'hunter2' });
    expect(error.message).toMatch(/APP_SECRET \(secret\) must be at least 32 characters long, got a secret of 7 bytes/);
    expect(error.message).not.toContain('hunter2');
    expect(JSON.stringify(error.value)).not.toContain('hunter2');
  });

  it('never shows the credentials of a URL', () => {
    const error = refusal({}, { APP_URL: 'http://:hunter2@host' });
    expect(error.message).toMatch(
      /APP_URL \(url\) must be a URL starting with redis:\/\/ or rediss:\/\/, got "http:\/\/:\*\*\*@host"/,
    );
    expect(error.message).not.toContain('hunter2');
    expect(error.value).toBe('http://:***@host');
  });

  it('cuts a long value', () => {
    const error = refusal({ name: 'x'.repeat(500) });
    expect(error.message).toMatch(/got "x{119}\.\.\. \(502 characters\)\./);
  });
});
