import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  // No default secret: a guessable one would let anyone mint tokens for any user. Stop before anything listens.
  if (!process.env.JWT_SECRET) {
    throw new Error('JWT_SECRET is not set: set it to the secret your tokens are signed with (HS256).');
  }
  const port = Number(process.env.PORT ?? 3000);
  // abortOnError off: a failed start-up (bad option, unreachable dependency) reaches the catch below and exits 1
  // with its message, instead of Nest calling process.abort().
  const app = await NestFactory.create(AppModule, { abortOnError: false });
  // SIGTERM/SIGINT run the modules' shutdown: waiting envelopes are flushed and hub clients told to reconnect.
  app.enableShutdownHooks();
  await app.listen(port);
  new Logger('Bootstrap').log(`Listening on http://localhost:${port} (hub: /hubs/notifications, POST /notify)`);
}

bootstrap().catch((error: unknown) => {
  new Logger('Bootstrap').error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
