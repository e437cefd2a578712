import { ChatApi, serviceToken } from '../support/chat-api';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import { TestClient } from '../support/signalr-client';
import { eventually } from '../support/stream-reader';
import { dashboardExpressions, PROMETHEUS_CONFIG, readYaml } from './ops-files';
import { PrometheusProcess } from './prometheus-process';

/** The shipped scrape config, every target replaced by the test service, scraping every second. */
function testConfig(servicePort: number): object {
  const config = readYaml(PROMETHEUS_CONFIG);
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  for (const job of config.scrape_configs) {
    if (job.scrape_interval) job.scrape_interval = '1s';
    delete job.scrape_timeout;
    for (const group of job.static_configs) group.targets = [`127.0.0.1:${servicePort}`];
  }
  return config;
}

describe('ops/prometheus/prometheus.yml with a real Prometheus scraping the service', () => {
  let redis: RedisServer;
  let service: ServiceProcess;
  let prometheus: PrometheusProcess;
  let client: TestClient;
  let traffic: NodeJS.Timeout | undefined;
  let posted = 0;

  beforeAll(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url });
    prometheus = await PrometheusProcess.start(testConfig(service.port));
    client = await new TestClient(service.hubUrl, serviceToken('watcher')).start();
    await client.connection.invoke('JoinRoom', 'r1');
    // Steady traffic for the whole suite, so rate() windows always hold fresh deliveries.
    const api = new ChatApi(service.baseUrl, 'poster');
    const post = () => void api.post('r1', `m${++posted}`).catch(() => undefined);
    post();
    traffic = setInterval(post, 250);
  });

  afterAll(async () => {
    clearInterval(traffic);
    await client?.stop();
    await prometheus?.dispose();
    await service?.dispose();
    await redis?.dispose();
  });

  it('scrapes the delivery latency histogram with the role label once messages are delivered', async () => {
    await eventually(() => expect(client.of('ReceiveMessage').length).toBeGreaterThan(0));
    await eventually(
      async () => {
        const series = await prometheus.query('realtime_delivery_latency_seconds_count');
        expect(series).toContainEqual({
          metric: expect.objectContaining({
            job: 'realtime',
            role: expect.stringMatching(/^(api|gateway)$/),
            transport: 'redis-streams',
          }),
          value: [expect.any(Number), expect.stringMatching(/^[1-9]\d*$/)],
        });
      },
      30_000,
      250,
    );
  });

  it('evaluates every dashboard query, and the latency panel shows a P99', async () => {
    // Grafana replaces $__rate_interval; 10 s is ten scrapes here.
    const expressions = dashboardExpressions().map((expr) => expr.replaceAll('$__rate_interval', '10s'));
    for (const expr of expressions) await expect(prometheus.query(expr)).resolves.toEqual(expect.any(Array));
    const p99 = expressions.find((expr) => expr.startsWith('histogram_quantile(0.99'))!;
    await eventually(
      async () => {
        const series = (await prometheus.query(p99)).find((s) => s.metric.transport === 'redis-streams');
        expect(Number(series?.value[1])).toBeGreaterThan(0);
      },
      30_000,
      250,
    );
  });
});
