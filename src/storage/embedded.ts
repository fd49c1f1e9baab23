/**
 * Embedded mode's storage: everything under one data directory, nothing else
 * to install or start. `<dataDir>/metadata.sqlite` holds the metadata,
 * `<dataDir>/blobs/` the object bytes, `<dataDir>/streams/` the stream log
 * (Kinesis record bytes), which the metadata store syncs before each COMMIT.
 */
import { join } from 'node:path';
import type { Stores } from './ports.js';
import { openFsBlobStore } from './fs/blob-store.js';
import { openFsStreamLog } from './fs/stream-log.js';
import { mkdirDurable } from './fs/sync-dir.js';
import { openSqliteMetadataStore } from './sqlite/metadata-store.js';

export async function openEmbeddedStores(dataDir: string): Promise<Stores> {
  // 0700: object bytes and metadata are readable by nobody but the server's user.
  await mkdirDurable(dataDir, 0o700);
  const streamLog = await openFsStreamLog(join(dataDir, 'streams'));
  // The log's entries a group's rows point to are fsync'd before the group's COMMIT.
  const metadata = await openSqliteMetadataStore(join(dataDir, 'metadata.sqlite'), { beforeCommit: () => streamLog.sync() }).catch(async (e: unknown) => {
    await streamLog.close();
    throw e;
  });
  try {
    const blobs = await openFsBlobStore(join(dataDir, 'blobs'));
    // Temp files are a crashed run's unfinished writes: no one can finish them.
    await blobs.cleanup();
    return { metadata, blobs, streamLog };
  } catch (error) {
    await metadata.close();
    await streamLog.close();
    throw error;
  }
}
