// The physical limit for bench/s3: a bare Node http server over the same disk.
// GET /<name> streams <dir>/<name>; PUT /<name> writes the body to a file and
// fsyncs it before answering (as hanul does before acknowledging a PUT).
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { fsync, open, close } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const dir = process.argv[2] ?? '/tmp';
const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const name = join(dir, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/').replace(/[^a-zA-Z0-9._-]/g, '_'));
  if (req.method === 'PUT') {
    const out = createWriteStream(name);
    req.pipe(out);
    out.on('finish', () =>
      open(name, 'r+', (e, fd) => {
        if (e) return void res.writeHead(500).end();
        fsync(fd, () => close(fd, () => res.writeHead(200, { 'content-length': '0' }).end()));
      }),
    );
    return;
  }
  req.resume();
  let size: number;
  try {
    size = statSync(name).size;
  } catch {
    res.writeHead(404, { 'content-length': '0' }).end();
    return;
  }
  res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
  createReadStream(name, { highWaterMark: 256 * 1024 }).pipe(res);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
