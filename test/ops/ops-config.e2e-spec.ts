import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { RedisServer } from '../support/redis-server';
import { ServiceProcess } from '../support/service-process';
import {
  COMPOSE_FILE,
  DASHBOARD,
  DASHBOARD_PROVIDERS,
  DATASOURCES,
  dashboardExpressions,
  PROMETHEUS_CONFIG,
  promqlMetricNames,
  readDashboard,
  readYaml,
  realtimeNamesIn,
} from './ops-files';

const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Relative paths a compose service reads from the project directory, as [what, path]. */
function composeFileReferences(service: any): Array<[string, string]> {
  const refs: Array<[string, string]> = [];
  if (service.build) {
    const build = typeof service.build === 'string' ? { context: service.build } : service.build;
    const context = build.context ?? '.';
    refs.push(['build.context', context]);
    if (build.dockerfile) refs.push(['build.dockerfile', join(context, build.dockerfile)]);
  }
  for (const envFile of [service.env_file ?? []].flat()) refs.push(['env_file', envFile.path ?? envFile]);
  for (const volume of service.volumes ?? []) {
    // Short syntax "source:target[:mode]"; a source without a leading "." or "/" names a volume, not a path.
    const source =
      typeof volume === 'string' ? volume.split(':')[0] : volume.type === 'bind' ? volume.source : undefined;
    if (source?.startsWith('.')) refs.push(['volume', source]);
  }
  return refs;
}

describe('ops files: dashboard and Prometheus config against the service, compose file against the repository', () => {
  let redis: RedisServer;
  let service: ServiceProcess;

  beforeAll(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await service?.dispose();
    await redis?.dispose();
  });

  it('uses only metric names the running service exposes', async () => {
    const used = new Set([
      ...dashboardExpressions().flatMap(promqlMetricNames),
      ...realtimeNamesIn(readFileSync(DASHBOARD, 'utf8')),
      ...realtimeNamesIn(readFileSync(PROMETHEUS_CONFIG, 'utf8')),
    ]);
    // The panels issue 5 asks for: guards against an extraction that silently finds nothing.
    expect([...used]).toEqual(
      expect.arrayContaining([
        'realtime_delivery_latency_seconds_bucket',
        'realtime_gateway_envelopes_received_total',
        'realtime_published_envelopes_total',
        'realtime_fallback_switches_total',
        'realtime_breaker_state',
        'realtime_coalescer_in_total',
        'realtime_coalescer_out_total',
        'realtime_stream_lag',
        'realtime_stream_pending',
        'realtime_gateway_connections',
        'realtime_slow_client_drops_total',
        'realtime_slow_client_disconnects_total',
      ]),
    );
    // prom-client prints HELP and TYPE for every registered metric, samples or not (role "all" registers both sides).
    const metrics = await service.metrics();
    const declared = (name: string, type = '') => metrics.includes(`\n# TYPE ${name} ${type}`);
    const missing = [...used].filter(
      (name) =>
        !declared(name) && !(HISTOGRAM_SUFFIX.test(name) && declared(name.replace(HISTOGRAM_SUFFIX, ''), 'histogram')),
    );
    expect(missing).toEqual([]);
  });

  it('compose file references only files that exist', () => {
    const compose = readYaml(COMPOSE_FILE);
    const root = dirname(COMPOSE_FILE);
    const refs = Object.entries<any>(compose.services).flatMap(([name, service]) =>
      composeFileReferences(service).map(([what, path]) => `${name} ${what} ${path}`),
    );
    expect(refs.length).toBeGreaterThanOrEqual(6);
    const missing = refs.filter((ref) => {
      const path = ref.split(' ')[2];
      return !existsSync(isAbsolute(path) ? path : join(root, path));
    });
    expect(missing).toEqual([]);
    // Named volumes must be declared at the top level, or compose refuses the file.
    const named = Object.values<any>(compose.services)
      .flatMap((service) => service.volumes ?? [])
      .map((volume) => (typeof volume === 'string' ? volume.split(':')[0] : volume.source))
      .filter((source: string) => !/^[./~]/.test(source));
    expect(named.filter((volume: string) => !(volume in (compose.volumes ?? {})))).toEqual([]);
  });

  it('has a `cluster` profile: six nodes, a create job that joins them all, and services that wait for it', () => {
    const compose = readYaml(COMPOSE_FILE);
    const nodes = Object.keys(compose.services).filter((name) => name.startsWith('redis-node-'));
    expect(nodes).toHaveLength(6);
    for (const node of nodes) {
      expect(compose.services[node].profiles).toEqual(['cluster']);
      expect(compose.services[node].environment.NODE_NAME).toBe(node);
    }
    const create = compose.services['redis-cluster-create'];
    expect(create.profiles).toEqual(['cluster']);
    expect(Object.keys(create.depends_on).sort()).toEqual(nodes.sort());
    const script = readFileSync(join(dirname(COMPOSE_FILE), 'ops/redis-cluster/create-cluster.sh'), 'utf8');
    for (const node of nodes) expect(script).toContain(node);
    expect(script).toContain('--cluster-replicas 1');
    for (const service of ['api', 'gateway-1', 'gateway-2']) {
      expect(compose.services[service].depends_on['redis-cluster-create']).toEqual({
        condition: 'service_completed_successfully',
        required: false,
      });
      expect(compose.services[service].environment.REDIS_CLUSTER_NODES).toBe('${REDIS_CLUSTER_NODES:-}');
    }
  });

  it('wires the files together: scrape targets, data source uid, dashboard directory', () => {
    const compose = readYaml(COMPOSE_FILE);
    // Every scrape target is a compose service listening on that port.
    const targets = readYaml(PROMETHEUS_CONFIG).scrape_configs.flatMap((job: any) =>
      job.static_configs.flatMap((config: any) => config.targets as string[]),
    );
    expect(targets.sort()).toEqual(['api:3000', 'gateway-1:3000', 'gateway-2:3000']);
    for (const target of targets) {
      const [host, port] = target.split(':');
      // Compared with the target alongside, so a failure names it.
      expect({ target, port: compose.services[host]?.environment?.PORT }).toEqual({ target, port });
    }
    // Every panel and query points at the provisioned data source.
    const uid = readYaml(DATASOURCES).datasources[0].uid;
    const uids = new Set(realtimeDatasourceUids(readDashboard()));
    expect([...uids]).toEqual([uid]);
    // The provider reads the directory compose mounts the dashboards into.
    const path = readYaml(DASHBOARD_PROVIDERS).providers[0].options.path;
    expect(compose.services.grafana.volumes).toContain(`./ops/grafana/dashboards:${path}:ro`);
  });
});

function realtimeDatasourceUids(dashboard: any): string[] {
  return dashboard.panels.flatMap((panel: any) => [
    panel.datasource?.uid,
    ...panel.targets.map((t: any) => t.datasource?.uid),
  ]);
}
