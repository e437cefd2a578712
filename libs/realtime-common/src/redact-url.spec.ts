import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it.each([
    ['http://:hunter2@host', 'http://:***@host'],
    ['redis://:hunter2@127.0.0.1:6379/0', 'redis://:***@127.0.0.1:6379/0'],
    ['rediss://app:hunter2@r1:7000', 'rediss://app:***@r1:7000'],
    ['mysql://chat:hunter2@db/chat', 'mysql://chat:***@db/chat'],
    // ioredis takes a lone user name as the password.
    ['redis://hunter2@host:6379', 'redis://***@host:6379'],
    // Unencoded @ and / in the password: the whole userinfo goes.
    ['redis://:hun@ter/2@host', 'redis://:***@host'],
    ['postgres://db/chat?sslmode=require&password=hunter2', 'postgres://db/chat?sslmode=require&password=***'],
    ['wss://gw/hubs/chat?access_token=hunter2', 'wss://gw/hubs/chat?access_token=***'],
  ])('%s -> %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
    expect(redactUrl(url)).not.toContain('hunter2');
  });

  it('redacts every URL in a message and leaves the rest alone', () => {
    const message = 'connect to redis://:a1@r1:7000,redis://:b2@r2:7000 failed; ["http://u:c3@gw/x"] too';
    expect(redactUrl(message)).toBe(
      'connect to redis://:***@r1:7000,redis://:***@r2:7000 failed; ["http://u:***@gw/x"] too',
    );
  });

  it('leaves URLs without credentials and plain text unchanged', () => {
    for (const text of ['redis://127.0.0.1:6379', 'http://gw:3000/internal/realtime/events', 'no URL here', 'a=b']) {
      expect(redactUrl(text)).toBe(text);
    }
  });
});
