import { mkdtemp, open, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStreamLogContract } from '../contract.suite.js';
import { openSqliteMetadataStore } from '../sqlite/metadata-store.js';
import { openFsStreamLog } from './stream-log.js';

const SEGMENT_BYTES = 4096;

runStreamLogContract('fs (with the SQLite metadata store)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hanul-streamlog-'));
  const root = join(dir, 'streams');
  const segments = async (lane?: string): Promise<string[]> => {
    const out: string[] = [];
    for (const l of await readdir(root)) if (lane === undefined || l === lane) for (const f of await readdir(join(root, l))) out.push(join(root, l, f));
    return out.sort();
  };
  return {
    log: await openFsStreamLog(root, { segmentBytes: SEGMENT_BYTES }),
    segmentBytes: SEGMENT_BYTES,
    reopen: () => openFsStreamLog(root, { segmentBytes: SEGMENT_BYTES }),
    metadata: (log) => openSqliteMetadataStore(join(dir, 'meta.sqlite'), { beforeCommit: () => log.sync() }),
    async tearTail(lane, bytes) {
      const last = (await segments(lane)).at(-1) as string;
      await truncate(last, (await stat(last)).size - bytes);
    },
    async damage(lane, p) {
      const fh = await open(join(root, lane, `${String(p.segment).padStart(12, '0')}.log`), 'r+');
      try {
        const at = p.offset + 8 + Math.floor(p.length / 2);
        const { buffer } = await fh.read(Buffer.alloc(1), 0, 1, at);
        await fh.write(Buffer.from([(buffer[0] as number) ^ 0xff]), 0, 1, at);
      } finally {
        await fh.close();
      }
    },
    files: async () => (await segments()).length,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
