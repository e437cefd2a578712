/** Environment variables as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * `NODE_ENV=production`: where a weak secret stops start-up instead of being warned about. The one process-wide
 * convention the libraries honour; everything else comes from their options.
 */
export function isProductionEnv(env: Env): boolean {
  return env.NODE_ENV?.trim() === 'production';
}
