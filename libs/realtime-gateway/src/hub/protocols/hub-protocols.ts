import type { HubProtocolCodec, HubProtocolName } from './hub-protocol-codec';
import { JSON_HUB_PROTOCOL } from './json-hub-protocol';
import { MESSAGEPACK_HUB_PROTOCOL } from './messagepack-hub-protocol';

const BY_NAME: Record<HubProtocolName, HubProtocolCodec> = {
  json: JSON_HUB_PROTOCOL,
  messagepack: MESSAGEPACK_HUB_PROTOCOL,
};

/** The protocol a handshake named, or undefined when the hub does not speak it. */
export function hubProtocolNamed(name: string): HubProtocolCodec | undefined {
  return Object.hasOwn(BY_NAME, name) ? BY_NAME[name as HubProtocolName] : undefined;
}
