import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { type AuthenticatedUser, Hs256JwtVerifier } from '@realtime/gateway';
import { errorMessage } from '@realtime/transport';
import type { IncomingMessage } from 'node:http';
import { serviceConfig, type ServiceConfig } from '../config/service.config';

export interface AuthenticatedRequest extends IncomingMessage {
  user: AuthenticatedUser;
}

/** `Authorization: Bearer <HS256 JWT>`; `sub` becomes the user id. The hub checks tokens the same way. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly verifier: Hs256JwtVerifier;

  constructor(@Inject(serviceConfig.KEY) config: ServiceConfig) {
    this.verifier = new Hs256JwtVerifier(config.jwtSecret);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new UnauthorizedException('Authorization: Bearer <token> is required');
    try {
      request.user = this.verifier.verify(match[1].trim());
    } catch (error) {
      throw new UnauthorizedException(`invalid token: ${errorMessage(error)}`);
    }
    return true;
  }
}
