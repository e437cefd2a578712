export { setting, section, integer, urlOf, codeOnly, type SettingMeta, type SectionMeta } from './setting';
export { optionsFromEnv, type SettingSources } from './options-from-env';
export { parseOptions } from './parse-options';
export { configTable } from './config-table';
export {
  redisConnectionSettings,
  streamLayoutSettings,
  envelopeLimitSettings,
  metricsSetting,
  type RedisConnectionOptions,
} from './shared-settings';
