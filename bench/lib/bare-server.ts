// The physical limit for the edge benchmark: a bare Node http server that
// answers every request with fixed bytes (status, headers, body from argv).
import http from 'node:http';

const spec = JSON.parse(process.argv[2] ?? '{}') as { status?: number; headers?: Record<string, string>; body?: string };
const body = Buffer.from(spec.body ?? '');
const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.resume();
  res.writeHead(spec.status ?? 200, { ...spec.headers, date: new Date().toUTCString(), 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
