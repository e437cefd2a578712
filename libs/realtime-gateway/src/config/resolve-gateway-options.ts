import { hostname } from 'node:os';
import { InvalidRealtimeConfigError, parseOptions, type SettingSources } from '@realtime-streams/common';
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
 * name, and the checks between settings. Errors name the option (or the variable).
 */
export function resolveGatewayOptions(
  options: RealtimeGatewayOptions,
  sources?: SettingSources,
): ResolvedGatewayOptions {
  const { auth, hub, instanceId, ...rest } = parseOptions(realtimeGatewaySchema, options, sources);
  const jwt = auth.jwt ? jwtVerificationOptions(auth.jwt) : auth.jwtSecret ? { secret: auth.jwtSecret } : undefined;
  const verifier = auth.verifier ?? (jwt ? new JwtVerifier(jwt) : undefined);
  if (!verifier) throw new InvalidRealtimeConfigError('auth', '(none)', 'a verifier, jwt settings or a jwtSecret');
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
