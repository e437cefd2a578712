import { hostname } from 'node:os';
import { InvalidRealtimeConfigError, parseOptions, type SettingSources } from '@realtime-streams/common';
import { checkHs256Secret, HOW_TO_MAKE_A_SECRET, type SecretPolicy } from '../auth/hs256-secret-strength';
import { JwtVerifier } from '../auth/jwt.verifier';
import { jwtVerificationOptions } from '../auth/jwt-env.parser';
import type { RealtimeGatewayOptions, ResolvedGatewayOptions } from '../realtime-gateway-options.interface';
import { type GatewayInputMode, realtimeGatewaySchema } from './gateway-options.schema';

/**
 * The inputs a transport mode opens: only what its publishers use, so a bridge-only gateway never connects to Redis
 * (whatever `REALTIME_GATEWAY_REDIS` defaults to) and an in-process one opens no receiver. A mode lacking what it
 * needs stops start-up naming the variable. No mode: every input configured (earlier versions).
 */
function inputsOf(
  mode: GatewayInputMode | undefined,
  { redis, bridge, inProcess }: Pick<ResolvedGatewayOptions, 'redis' | 'bridge' | 'inProcess'>,
): Pick<ResolvedGatewayOptions, 'redis' | 'bridge' | 'inProcess'> {
  if (mode === undefined) return { redis, bridge, inProcess };
  if ((mode === 'redis-streams' || mode === 'dual') && !redis) {
    throw new InvalidRealtimeConfigError(
      'redis (REALTIME_GATEWAY_REDIS, REDIS_URL)',
      undefined,
      `configured when transport is '${mode}': the Redis the streams are read from`,
    );
  }
  if ((mode === 'http-bridge' || mode === 'dual') && !bridge) {
    throw new InvalidRealtimeConfigError(
      'bridge.secret (REALTIME_BRIDGE_SECRET)',
      undefined,
      `set when transport is '${mode}': the secret publishers send to the bridge receiver (openssl rand -base64 32)`,
    );
  }
  return {
    redis: mode === 'redis-streams' || mode === 'dual' ? redis : undefined,
    bridge: mode === 'in-process' ? undefined : bridge,
    inProcess: mode === 'in-process' || inProcess,
  };
}

/** What an invocation frame adds to its args: `{"type":1,"target":<method, at most 128>,"arguments":...}` + 0x1E. */
const FRAME_OVERHEAD_BYTES = 256;

/**
 * Applies the schema's defaults and bounds, then what the schema cannot say: the token verifier, the instance
 * name, and the checks between settings. Errors name the option (or the variable). `secrets`: whether a short
 * HS256 secret is refused (production) or warned about.
 */
export function resolveGatewayOptions(
  options: RealtimeGatewayOptions,
  sources?: SettingSources,
  secrets: SecretPolicy = { production: false },
): ResolvedGatewayOptions {
  const { auth, hub, instanceId, ...rest } = parseOptions(realtimeGatewaySchema, options, sources);
  const jwt = auth.jwt ? jwtVerificationOptions(auth.jwt) : auth.jwtSecret ? { secret: auth.jwtSecret } : undefined;
  if (jwt?.secret && !auth.verifier) {
    const path = auth.jwt ? 'auth.jwt.secret' : 'auth.jwtSecret';
    const label = sources?.get(path) === 'JWT_SECRET' ? `JWT_SECRET (${path})` : `${path} (JWT_SECRET)`;
    checkHs256Secret(jwt.secret, { label, env: 'JWT_SECRET' }, secrets);
  }
  const verifier = auth.verifier ?? (jwt ? new JwtVerifier(jwt) : undefined);
  if (!verifier) throw noWayToVerifyTokens();
  const { slowClients, envelopes } = rest;
  if (slowClients.hardLimitBytes < slowClients.softLimitBytes) {
    throw new InvalidRealtimeConfigError('slowClients.hardLimitBytes', slowClients.hardLimitBytes, '>= softLimitBytes');
  }
  // An envelope the hard bound cannot hold would make every client that has not yet read it look slow.
  if (envelopes.maxArgsBytes + FRAME_OVERHEAD_BYTES > slowClients.hardLimitBytes) {
    throw new InvalidRealtimeConfigError(
      'envelopes.maxArgsBytes (REALTIME_MAX_ARGS_BYTES)',
      envelopes.maxArgsBytes,
      `at most slowClients.hardLimitBytes (REALTIME_SLOW_CLIENT_HARD_BYTES, ${slowClients.hardLimitBytes}) minus ` +
        `${FRAME_OVERHEAD_BYTES} bytes of frame, so one largest envelope fits under the hard bound; ` +
        'lower the envelope cap or raise the hard bound',
    );
  }
  const { transport, ...inputs } = rest;
  return {
    ...inputs,
    ...inputsOf(transport, inputs),
    instanceId: instanceId ?? `${hostname()}-${process.pid}`,
    hub: { ...hub, groupMethods: hub.groupMethods ?? [{ join: 'JoinGroup', leave: 'LeaveGroup' }] },
    verifier,
    closeOnTokenExpiry: auth.closeOnExpiration,
  };
}

/** No secret, key or verifier: every client would be refused, so the gateway does not start. */
function noWayToVerifyTokens(): InvalidRealtimeConfigError {
  return new InvalidRealtimeConfigError(
    'JWT_SECRET (auth.jwt.secret)',
    undefined,
    'set, or another way to verify client tokens given',
    {
      fix:
        `Set JWT_SECRET to the secret your tokens are signed with (${HOW_TO_MAKE_A_SECRET.toLowerCase()}); for ` +
        'tokens an identity provider signs, set JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL instead; in code, ' +
        'give auth.jwtSecret, auth.jwt or auth.verifier.',
    },
  );
}
