/** Injection token of the resolved gateway options (`ResolvedGatewayOptions`). */
export const RESOLVED_GATEWAY_OPTIONS = Symbol('RESOLVED_GATEWAY_OPTIONS');
