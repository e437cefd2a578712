import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { config as loadEnvFile } from 'dotenv';
import { AppModule } from './app.module';
import { loadServiceConfig, type ServiceConfig } from './config/service.config';
import { shutDownGracefully } from './http/graceful-shutdown';
import { useJsonBody } from './http/json-body';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  const envFile = process.env.REALTIME_ENV_FILE ?? '.env';
  // The role decides which modules exist, so it is read before Nest starts (from the same env file). An unsafe
  // configuration (missing secret in production, ...) stops here, before anything listens.
  loadEnvFile({ path: envFile, quiet: true });
  const service = loadServiceConfig(process.env);
  logSecurity(logger, service);
  // Nest's own parsers are off: ours answers malformed bodies as 4xx JSON instead of logging them as errors.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRole(service.role, envFile), {
    bodyParser: false,
  });
  // Express names itself on every response otherwise: a free hint for anyone matching versions to known flaws.
  app.disable('x-powered-by');
  // SIGTERM/SIGINT: stop accepting, then the shutdown hooks flush waiting envelopes and close clients.
  shutDownGracefully(app);
  useJsonBody(app);
  await app.listen(service.port);
  logger.log(
    `Role ${service.role}, listening on http://localhost:${service.port} (health: /health, metrics: /metrics)`,
  );
}

/** Where the secrets came from (names and file, never values) and what is open: the first thing an operator checks. */
function logSecurity(logger: Logger, service: ServiceConfig): void {
  const from = (source: string) =>
    Object.keys(service.secretSources).filter((name) => service.secretSources[name] === source);
  const generated = from('generated');
  const stored = from('secrets-file');
  if (generated.length > 0) {
    logger.log(
      `Generated ${generated.join(', ')} for this installation in ${service.secretsFile} (mode 0600, reused on every start; npm run token reads it)`,
    );
  }
  if (stored.length > 0)
    logger.log(`${stored.join(', ')} read from ${service.secretsFile} (generated for this installation)`);
  if (service.devTokens)
    logger.warn('DEV_TOKENS is on: the demo page hands out a token for any user name. Development only.');
  if (service.production) {
    logger.log(
      service.healthToken === undefined
        ? '/health answers with its status only (set HEALTH_TOKEN to let monitoring see the details)'
        : '/health answers with its status only, details for Authorization: Bearer <HEALTH_TOKEN>',
    );
  }
  if (service.roomsOpen) {
    const note =
      'ROOMS_OPEN=true: every user may read, post to and join every room; ROOMS_OPEN=false makes rooms members-only';
    if (service.production) logger.warn(note);
    else logger.log(`${note} (the development default)`);
  }
}

void bootstrap().catch((error: unknown) => {
  new Logger('Bootstrap').error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
