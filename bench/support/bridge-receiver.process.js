// Minimal HTTP bridge receiver for benchmarks, in its own process so it does not share the publisher's event loop.
// Answers 204 to every POST after reading and parsing the body (a real gateway parses too); prints its port.
const http = require('node:http');

let envelopes = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') return void res.writeHead(200).end();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    envelopes += JSON.parse(Buffer.concat(chunks).toString()).length;
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => {
  process.stderr.write(`receiver got ${envelopes} envelopes\n`);
  process.exit(0);
});
