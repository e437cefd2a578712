import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { type AuthenticatedUser, JwtVerifier } from '@realtime-streams/gateway';
import type { IncomingMessage } from 'node:http';
import { serviceConfig, type ServiceConfig } from '../config/service.config';

export interface AuthenticatedRequest extends IncomingMessage {
  user: AuthenticatedUser;
}

/** `Authorization: Bearer <JWT>`; `sub` becomes the user id. The hub checks tokens with the same settings. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly verifier: JwtVerifier;

  constructor(@Inject(serviceConfig.KEY) config: ServiceConfig) {
    this.verifier = new JwtVerifier(config.jwt);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new UnauthorizedException('Authorization: Bearer <token> is required');
    try {
      request.user = await this.verifier.verify(match[1].trim());
    } catch (error) {
      throw new UnauthorizedException(`invalid token: ${error instanceof Error ? error.message : String(error)}`);
    }
    return true;
  }
}
