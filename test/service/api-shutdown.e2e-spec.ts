import { ChatApi } from '../support/chat-api';
import { freePort } from '../support/free-port';
import { ServiceProcess } from '../support/service-process';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('api shutdown: stop accepting, then flush', () => {
  let service: ServiceProcess | undefined;

  afterEach(async () => {
    await service?.dispose();
  });

  it('answers no 201 once SIGTERM arrived, while it is still flushing what it accepted before', async () => {
    // Redis unreachable and no bridge: accepted events wait in the buffer, so the flush takes the whole timeout.
    service = await ServiceProcess.start({
      REALTIME_ROLE: 'api',
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      REALTIME_SHUTDOWN_TIMEOUT_MS: '3000',
    });
    const api = new ChatApi(service.baseUrl, 'alice');
    for (let i = 0; i < 5; i++) await api.post('r', `before #${i}`);

    service.signal('SIGTERM');
    await sleep(500);
    const outcome = await api
      .request('POST', '/rooms/r/messages', { text: 'during shutdown' })
      .then((response) => response.status)
      .catch(() => 'refused');
    // A new connection is refused (the server stopped listening), a kept-alive one gets a 503: never a 201.
    expect([503, 'refused']).toContain(outcome);
    const started = Date.now();
    await service.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(service.output.join('')).toMatch(/refusing new requests/);
  });
});
