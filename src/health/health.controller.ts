import { Controller, Get, Headers, Inject, Optional } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult, HealthCheckService, type HealthIndicatorResult } from '@nestjs/terminus';
import { GatewayHealthIndicator } from '@realtime-streams/gateway';
import { RedisHealthIndicator, TransportChainHealthIndicator } from '@realtime-streams/transport';
import { serviceConfig, type ServiceConfig } from '../config/service.config';
import { DatabaseHealthIndicator } from './database.health';
import { HealthAccess, type HealthStatusOnly, statusOnly } from './health-access';

/**
 * `/health` of whatever this process runs. A Redis outage makes the service degraded, not down: events go over the
 * HTTP bridge, so the transport check stays up with `degraded: true`, and `redis` reports `reachable: false`.
 * Down means no way out for events (publisher) or a stuck stream consumer (gateway). On PostgreSQL (`DATABASE_URL`)
 * `database` is down for a process that runs the API (no message can be stored), and degraded for a gateway, which
 * keeps delivering and only needs the database for `JoinRoom` of members-only rooms. In production only callers
 * with `HEALTH_TOKEN` see these details (see `HealthAccess`).
 */
@Controller('health')
export class HealthController {
  private readonly access: HealthAccess;

  constructor(
    private readonly health: HealthCheckService,
    @Inject(serviceConfig.KEY) config: ServiceConfig,
    @Optional() private readonly transport?: TransportChainHealthIndicator,
    @Optional() private readonly redis?: RedisHealthIndicator,
    @Optional() private readonly gateway?: GatewayHealthIndicator,
    @Optional() private readonly database?: DatabaseHealthIndicator,
  ) {
    this.access = new HealthAccess(config);
  }

  @Get()
  @HealthCheck()
  check(@Headers('authorization') authorization?: string): Promise<HealthCheckResult | HealthStatusOnly> {
    const checks: Array<() => HealthIndicatorResult | Promise<HealthIndicatorResult>> = [];
    if (this.transport) checks.push(() => this.transport!.isAvailable());
    if (this.gateway) checks.push(() => this.gateway!.isHealthy());
    checks.push(() => this.redisReachability());
    if (this.database?.enabled) checks.push(() => this.databaseReachability());
    const result = this.health.check(checks);
    return this.access.showsDetails(authorization) ? result : statusOnly(result);
  }

  private async redisReachability(): Promise<HealthIndicatorResult> {
    const result = this.redis ? (await this.redis.isHealthy()).redis : (await this.gateway!.isRedisHealthy()).redis;
    const reachable = result.status === 'up';
    return {
      redis: {
        ...result,
        status: 'up',
        reachable,
        ...(reachable ? {} : { note: 'Redis is down: events travel over the HTTP bridge until it is back' }),
      },
    };
  }

  private async databaseReachability(): Promise<HealthIndicatorResult> {
    const result = (await this.database!.isHealthy()).database;
    if (result.status === 'up' || this.transport) return { database: result };
    return {
      database: {
        ...result,
        status: 'up',
        reachable: false,
        note: 'the database is down: JoinRoom of members-only rooms fails until it is back',
      },
    };
  }
}
