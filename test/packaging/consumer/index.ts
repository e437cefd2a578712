// A consumer of every public entry point of the four packages. The packaging suite type-checks this file, against
// the packages installed from their tarballs, with the plain tsconfig an application would have (strict, no
// skipLibCheck, no resolveJsonModule): every declaration file these imports reach is checked, as in that application.
import * as common from '@realtime-streams/common';
import * as contracts from '@realtime-streams/contracts';
import * as gateway from '@realtime-streams/gateway';
import * as gatewayTesting from '@realtime-streams/gateway/testing';
import * as transport from '@realtime-streams/transport';
import * as transportTesting from '@realtime-streams/transport/testing';

// A few uses of what used to need the JSON module or prom-client's types.
export const schemaId: string = contracts.EnvelopeValidator.schema.$id;
export const noMetrics: common.RealtimeMetricsOption = false;

export const entryPoints = [common, contracts, gateway, gatewayTesting, transport, transportTesting];
