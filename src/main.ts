import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  // SIGTERM/SIGINT run the shutdown hooks: waiting envelopes are flushed before connections close.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  new Logger('Bootstrap').log(`Listening on http://localhost:${port} (health: /health, metrics: /metrics)`);
}

void bootstrap();
