import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Shutdown in the order that keeps what was accepted: first stop accepting (every request answers 503 with
 * `Connection: close`, the listening socket closes, idle kept-alive connections go), then run Nest's shutdown
 * hooks (the publisher flushes what it accepted, the gateway closes its clients), then exit. Nest's own
 * `enableShutdownHooks` would flush while the REST API still answers 201 to events the flush may never carry.
 */
export function shutDownGracefully(app: NestExpressApplication): void {
  let stopping = false;
  app.use(
    (
      _request: unknown,
      response: { setHeader: (n: string, v: string) => void; status: (c: number) => { json: (b: unknown) => void } },
      next: () => void,
    ) => {
      if (!stopping) return next();
      response.setHeader('connection', 'close');
      response.status(503).json({ statusCode: 503, error: 'Service Unavailable', message: 'shutting down; try again' });
    },
  );
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    const logger = new Logger('Shutdown');
    logger.log(`${signal}: refusing new requests, flushing, closing connections`);
    const server = app.getHttpServer();
    server.close();
    server.closeIdleConnections();
    app
      .close()
      .catch((error: unknown) =>
        logger.error(`Shutdown failed: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => {
        for (const s of SIGNALS) process.removeAllListeners(s);
        process.kill(process.pid, signal);
      });
  };
  // `on`, not `once`: a second signal while flushing must not kill the process halfway.
  for (const signal of SIGNALS) process.on(signal, onSignal);
}
