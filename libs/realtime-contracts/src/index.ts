// The contract between publishers and gateways: the envelope, its schema and validator, targets, the stream layout.
export type { Envelope, OutboundEnvelope, RealtimeTarget } from './envelope';
export { ENVELOPE_LIMIT_DEFAULTS, STREAM_LAYOUT_DEFAULTS } from './defaults';
export { EnvelopeValidator, type EnvelopeValidation, type EnvelopeJsonSchema } from './envelope.validator';
export { toGroup, toUser, toAll, targetKeyOf, targetOfKey } from './targets';
export { exceedsJsonDepth } from './json-depth';
export { epochMs } from './clock';
export {
  StreamKeys,
  streamKey,
  sequenceKeyOf,
  userShardsOf,
  SPLIT_FROM_SHARDS,
  type StreamKeyLayout,
} from './stream-keys';
export { clusterSlotOf, balancedHashTags, CLUSTER_SLOTS } from './cluster-slot';
export { stableHash, shardOf, percentagePoint } from './stable-hash';
