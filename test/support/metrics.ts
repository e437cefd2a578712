import { register } from 'prom-client';

/** Whether a sample's labels include every one of `labels`. */
const hasLabels = (sampleLabels: Record<string, unknown>, labels: Record<string, string>) =>
  Object.entries(labels).every(([key, value]) => String(sampleLabels[key]) === value);

/** A metric of this process's default registry, summed over the series whose labels include `labels` (0: none). */
export async function registryMetric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = (await register.getSingleMetric(name)?.get())?.values ?? [];
  return values.filter((v) => hasLabels(v.labels, labels)).reduce((sum, v) => sum + v.value, 0);
}

/**
 * A metric of a Prometheus exposition (another process's `/metrics`), summed over the samples named exactly `name`
 * whose labels include `labels` (0: none).
 */
export function exposedMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const sampleLabels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) sampleLabels[key] = value;
    if (hasLabels(sampleLabels, labels)) sum += Number(match[3]);
  }
  return sum;
}
