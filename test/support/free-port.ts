import { createServer } from 'node:net';

/*
 * Ports are drawn below Linux's ephemeral range (32768-60999): a port the OS hands out for `listen(0)` or for an
 * outgoing connection can be taken again by any process between our check and the server's bind, which is how a
 * cluster node once failed with "Address already in use" on its bus port. Servers a test restarts on the same port
 * (Redis, gateways) are safe from outgoing connections there too.
 */
const LOWEST = 15_000;
const HIGHEST = 32_000;
const handedOut = new Set<number>();

/** A TCP port nothing listens on right now, never handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    if (handedOut.has(port)) continue;
    if (!(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${LOWEST} and ${HIGHEST} after 200 tries`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
