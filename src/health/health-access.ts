import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpException } from '@nestjs/common';
import type { HealthCheckResult, HealthCheckStatus } from '@nestjs/terminus';
import type { ServiceConfig } from '../config/service.config';

/** What an anonymous caller of a production `/health` gets: the status, nothing else. */
export interface HealthStatusOnly {
  status: HealthCheckStatus;
}

/**
 * Who sees the details of `/health` (bridge URLs, instance names, error texts). Development: everyone, as the demo
 * and the docs show them. Production: only callers sending `Authorization: Bearer <HEALTH_TOKEN>`. Anyone else,
 * a wrong token included, is answered as anonymous rather than 401, so load-balancer probes keep their status code.
 */
export class HealthAccess {
  private readonly tokenDigest?: Buffer;

  constructor(private readonly config: Pick<ServiceConfig, 'production' | 'healthToken'>) {
    if (config.healthToken !== undefined) this.tokenDigest = digest(config.healthToken);
  }

  showsDetails(authorization: string | undefined): boolean {
    if (!this.config.production) return true;
    if (!this.tokenDigest) return false;
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    // Digests have one length whatever was sent, so timingSafeEqual never throws and the time says nothing.
    return match !== null && timingSafeEqual(digest(match[1].trim()), this.tokenDigest);
  }
}

/**
 * Terminus's answer reduced to its status, with the same HTTP status code (200, or 503 when a check is down): its
 * 503 carries the whole result in the exception, which the default exception filter would send.
 */
export async function statusOnly(result: Promise<HealthCheckResult>): Promise<HealthStatusOnly> {
  try {
    return { status: (await result).status };
  } catch (error) {
    if (!(error instanceof HttpException)) throw error; // Nest answers 500 without the message
    const body = error.getResponse() as Partial<HealthCheckResult>;
    throw new HttpException({ status: body.status ?? 'error' }, error.getStatus());
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
