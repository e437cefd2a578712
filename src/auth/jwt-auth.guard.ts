import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { type AuthenticatedUser, JwtVerifier } from '@realtime-streams/gateway';
import type { IncomingMessage } from 'node:http';
import { serviceConfig, type ServiceConfig } from '../config/service.config';
import { VerifiedTokens } from './verified-tokens.cache';

export interface AuthenticatedRequest extends IncomingMessage {
  user: AuthenticatedUser;
}

const BEARER = /^Bearer\s+(.+)$/i;

/**
 * `Authorization: Bearer <JWT>`; `sub` becomes the user id. The hub checks tokens with the same settings. A token
 * verified in the last minute (and not expired) is not verified again (`VerifiedTokens`).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly verifier: JwtVerifier;
  private readonly verified = new VerifiedTokens();

  constructor(@Inject(serviceConfig.KEY) config: ServiceConfig) {
    this.verifier = new JwtVerifier(config.jwt);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization ?? '';
    // Remembered by the whole header: a client repeats it byte for byte, and a hit needs no parsing.
    const known = this.verified.get(header);
    if (known) {
      request.user = known;
      return true;
    }
    const match = BEARER.exec(header);
    if (!match) throw new UnauthorizedException('Authorization: Bearer <token> is required');
    return this.verify(request, header, match[1].trim());
  }

  private async verify(request: AuthenticatedRequest, header: string, token: string): Promise<boolean> {
    try {
      request.user = await this.verifier.verify(token);
    } catch (error) {
      throw new UnauthorizedException(`invalid token: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.verified.set(header, request.user);
    return true;
  }
}
