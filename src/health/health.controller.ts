import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { RedisHealthIndicator, TransportChainHealthIndicator } from '@realtime/transport';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly transport: TransportChainHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /**
   * Up while events have a way out. Redis being down makes the service degraded, not down: the transport check
   * stays up (on the HTTP bridge) and its details say so; the redis check is reported alongside for dashboards.
   */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.transport.isAvailable(),
      async () => {
        const result = await this.redis.isHealthy();
        // Reachability is informative here: a Redis outage is a degradation the transport check already covers.
        return { redis: { ...result.redis, status: 'up' as const, reachable: result.redis.status === 'up' } };
      },
    ]);
  }
}
