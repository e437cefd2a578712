import { type Env, readString } from './env-readers';
import { installationSecret, MIN_SECRET_LENGTH, type ResolvedSecret } from './installation-secrets';
import { UnsafeConfigError } from './unsafe-config.error';

const HOW_TO_GENERATE = `at least ${MIN_SECRET_LENGTH} random characters, e.g. \`openssl rand -base64 32\``;

/**
 * `JWT_SECRET`: the environment's, or in development the installation's generated one. Production requires it
 * (a service signing with a secret nobody chose accepts tokens nobody should be able to make).
 */
export function jwtSecretOf(env: Env, secretsFile: string): ResolvedSecret {
  return secretOf(env, 'JWT_SECRET', secretsFile, {
    generate: true,
    missing: `JWT_SECRET is not set: NODE_ENV=production needs the secret your tokens are signed with (${HOW_TO_GENERATE}).`,
  });
}

/**
 * `REALTIME_BRIDGE_SECRET`, asked for only while the bridge is on. `inProcess`: publisher and receiver are this
 * process (role all without bridge URLs), the only case a generated secret can work: processes of a split set-up
 * each hold their own installation, so a generated secret would never match and events would be refused.
 */
export function bridgeSecretOf(env: Env, secretsFile: string, inProcess: boolean): ResolvedSecret {
  return secretOf(env, 'REALTIME_BRIDGE_SECRET', secretsFile, {
    generate: inProcess,
    missing: inProcess
      ? `REALTIME_BRIDGE_SECRET is not set: NODE_ENV=production needs it for the HTTP bridge (${HOW_TO_GENERATE}), or turn the bridge off with REALTIME_BRIDGE_RECEIVER=false.`
      : `REALTIME_BRIDGE_SECRET is not set: the api and gateway processes must share REALTIME_BRIDGE_SECRET (the same value in each, ${HOW_TO_GENERATE}), or turn the bridge off (REALTIME_BRIDGE_RECEIVER=false on the gateway, no REALTIME_HTTP_BRIDGE_URL on the api).`,
  });
}

/**
 * `HEALTH_TOKEN`, optional: in production only callers presenting it see `/health` details. Never generated: a token
 * nobody chose would be one no monitoring system holds. Production checks its length like the other secrets, since
 * the details name internal URLs and errors.
 */
export function healthTokenOf(env: Env): string | undefined {
  const value = readString(env, 'HEALTH_TOKEN');
  if (value !== undefined) refuseShortInProduction(env, 'HEALTH_TOKEN', value);
  return value;
}

/** `NODE_ENV=production`: secrets required and checked, nothing generated, no development conveniences. */
export function isProduction(env: Env): boolean {
  return readString(env, 'NODE_ENV') === 'production';
}

function secretOf(
  env: Env,
  name: string,
  secretsFile: string,
  rule: { generate: boolean; missing: string },
): ResolvedSecret {
  const value = readString(env, name);
  if (value !== undefined) {
    refuseShortInProduction(env, name, value);
    return { value, source: 'environment' };
  }
  if (isProduction(env) || !rule.generate) throw new UnsafeConfigError(name, rule.missing);
  return installationSecret(secretsFile, name);
}

function refuseShortInProduction(env: Env, name: string, value: string): void {
  if (isProduction(env) && value.length < MIN_SECRET_LENGTH) {
    throw new UnsafeConfigError(
      name,
      `${name} is too short (${value.length} characters): NODE_ENV=production needs ${HOW_TO_GENERATE}.`,
    );
  }
}
