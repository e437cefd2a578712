import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { config as loadEnvFile } from 'dotenv';
import { AppModule } from './app.module';
import { parseServiceEnv } from './config/service.config';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  const envFile = process.env.REALTIME_ENV_FILE ?? '.env';
  // The role decides which modules exist, so it is read before Nest starts (from the same env file).
  loadEnvFile({ path: envFile, quiet: true });
  const service = parseServiceEnv(process.env);
  if (service.devSecrets) {
    logger.warn('JWT_SECRET is not set: using a development secret and handing out development tokens. Set JWT_SECRET in production.');
  }
  const app = await NestFactory.create(AppModule.forRole(service.role, envFile));
  // SIGTERM/SIGINT run the shutdown hooks: waiting envelopes are flushed, clients get a close message.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(service.port);
  logger.log(`Role ${service.role}, listening on http://localhost:${service.port} (health: /health, metrics: /metrics)`);
}

void bootstrap().catch((error: unknown) => {
  new Logger('Bootstrap').error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
