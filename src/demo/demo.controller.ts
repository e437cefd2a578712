import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadRequestException, Body, Controller, ForbiddenException, Get, Header, Inject, Post } from '@nestjs/common';
import { signHs256Jwt } from '@realtime-streams/gateway';
import { ID_PATTERN } from '../chat/chat-input';
import { serviceConfig, type ServiceConfig } from '../config/service.config';

const PUBLIC = join(__dirname, 'public');

/**
 * The demo chat page and what it needs: the official SignalR browser bundles (the client and its MessagePack
 * protocol), its settings, and development tokens
 * (only while the JWT secret is this installation's generated one, or DEV_TOKENS=true; never in production).
 */
@Controller()
export class DemoController {
  private readonly files = new Map<string, string>();

  constructor(@Inject(serviceConfig.KEY) private readonly config: ServiceConfig) {
    // Read once: the page is small and never changes while the service runs.
    this.files.set('index.html', readFileSync(join(PUBLIC, 'index.html'), 'utf8'));
    this.files.set('demo.js', readFileSync(join(PUBLIC, 'demo.js'), 'utf8'));
    this.files.set('demo.css', readFileSync(join(PUBLIC, 'demo.css'), 'utf8'));
    this.files.set(
      'signalr.min.js',
      readFileSync(require.resolve('@microsoft/signalr/dist/browser/signalr.min.js'), 'utf8'),
    );
    this.files.set(
      'signalr-protocol-msgpack.min.js',
      readFileSync(
        require.resolve('@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.min.js'),
        'utf8',
      ),
    );
  }

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return this.files.get('index.html')!;
  }

  @Get('demo/demo.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  script(): string {
    return this.files.get('demo.js')!;
  }

  @Get('demo/demo.css')
  @Header('content-type', 'text/css; charset=utf-8')
  styles(): string {
    return this.files.get('demo.css')!;
  }

  @Get('vendor/signalr.min.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  signalr(): string {
    return this.files.get('signalr.min.js')!;
  }

  @Get('vendor/signalr-protocol-msgpack.min.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  signalrMessagePack(): string {
    return this.files.get('signalr-protocol-msgpack.min.js')!;
  }

  @Get('demo/config.json')
  settings(): { hubUrl: string; devTokens: boolean; roomsOpen: boolean } {
    return {
      hubUrl: this.config.publicHubUrl ?? this.config.hubPath,
      devTokens: this.config.devTokens,
      roomsOpen: this.config.roomsOpen,
    };
  }

  @Post('dev/token')
  token(@Body() body: { userId?: unknown }): { token: string } {
    const secret = this.config.jwtSecret;
    if (!this.config.devTokens || !secret) {
      throw new ForbiddenException('development tokens are off: set DEV_TOKENS=true or use npm run token');
    }
    const userId = typeof body?.userId === 'string' && ID_PATTERN.test(body.userId) ? body.userId : undefined;
    if (!userId) throw new BadRequestException('userId must be 1-64 letters, digits, "_" or "-"');
    const now = Math.floor(Date.now() / 1000);
    return { token: signHs256Jwt({ sub: userId, iat: now, exp: now + 12 * 3600 }, secret) };
  }
}
