import { z } from 'zod';
import { integer, section, setting } from './config/setting';
import { envVariables } from './env-variables';

describe('envVariables', () => {
  const schema = z.object({
    port: setting(integer(1, 65_535).default(3000), { env: 'PORT', doc: 'Port.' }),
    window: setting(integer(1, 10).default(5), { env: ['NEW_WINDOW', 'OLD_WINDOW'], doc: 'Window.' }),
    codeOnly: setting(integer(1, 10).default(1), { doc: 'Set in code only.' }),
    redis: section(
      z.object({
        url: setting(z.string().optional(), { env: 'REDIS_URL', doc: 'Where.', shownDefault: 'localhost' }),
        list: setting(z.array(z.string()).default(['a', 'b']), { env: 'LIST', doc: 'Some.' }),
      }),
      { toggle: 'USE_REDIS', toggleDefault: false },
    ).optional(),
  });

  it("lists every variable in declaration order, a section's switch before its settings", () => {
    expect(envVariables(schema)).toEqual([
      { name: 'PORT', aliases: [], option: 'port', section: '', doc: 'Port.', defaultValue: 3000 },
      { name: 'NEW_WINDOW', aliases: ['OLD_WINDOW'], option: 'window', section: '', doc: 'Window.', defaultValue: 5 },
      {
        name: 'USE_REDIS',
        aliases: [],
        option: 'redis',
        section: 'redis',
        doc: '`false` turns the `redis` section off, `true` on.',
        defaultValue: false,
      },
      {
        name: 'REDIS_URL',
        aliases: [],
        option: 'redis.url',
        section: 'redis',
        doc: 'Where.',
        defaultValue: undefined,
        shownDefault: 'localhost',
      },
      { name: 'LIST', aliases: [], option: 'redis.list', section: 'redis', doc: 'Some.', defaultValue: ['a', 'b'] },
    ]);
  });

  it('gives a switch without a default of its own the default the environment parser applies (on)', () => {
    const toggled = z.object({ bridge: section(z.object({}), { toggle: 'USE_BRIDGE' }).optional() });
    expect(envVariables(toggled)).toMatchObject([{ name: 'USE_BRIDGE', defaultValue: true }]);
  });
});
