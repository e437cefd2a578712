import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

export const ROOT = join(__dirname, '..', '..');
export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
export const PROMETHEUS_CONFIG = join(ROOT, 'ops', 'prometheus', 'prometheus.yml');
export const DASHBOARD = join(ROOT, 'ops', 'grafana', 'dashboards', 'realtime.json');
export const DATASOURCES = join(ROOT, 'ops', 'grafana', 'provisioning', 'datasources', 'prometheus.yml');
export const DASHBOARD_PROVIDERS = join(ROOT, 'ops', 'grafana', 'provisioning', 'dashboards', 'dashboards.yml');

export function readYaml<T = any>(path: string): T {
  return load(readFileSync(path, 'utf8'), { filename: path }) as T;
}

export function readDashboard(): any {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8'));
}

/** Every PromQL expression of the dashboard's panels (rows may nest panels). */
export function dashboardExpressions(dashboard = readDashboard()): string[] {
  const panels = (list: any[] = []): any[] => list.flatMap((p) => [p, ...panels(p.panels)]);
  return panels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t: any) => t.expr as string).filter(Boolean));
}

const NOT_METRICS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

/**
 * Metric names of a PromQL expression: identifiers left once strings, label matchers, ranges and grouping lists are
 * removed, that are neither function calls nor keywords. Small on purpose: the dashboard only uses plain selectors.
 */
export function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '') // also Grafana's [$__rate_interval]
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, '');
  const names = [...bare.matchAll(/(?<![\w:.$])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()/g)].map((m) => m[1]);
  return names.filter((name) => !NOT_METRICS.has(name.toLowerCase()));
}

/** Every `realtime_*` name written anywhere in a text (relabel rules, descriptions, legends). */
export function realtimeNamesIn(text: string): string[] {
  return [...text.matchAll(/\brealtime_[a-z0-9_]*[a-z0-9]/g)].map((m) => m[0]);
}
