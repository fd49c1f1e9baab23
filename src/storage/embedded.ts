/**
 * Embedded mode's storage: everything under one data directory, nothing else
 * to install or start. `<dataDir>/metadata.sqlite` holds the metadata,
 * `<dataDir>/blobs/` the object bytes.
 */
import { join } from 'node:path';
import type { Stores } from './ports.js';
import { openFsBlobStore } from './fs/blob-store.js';
import { mkdirDurable } from './fs/sync-dir.js';
import { openSqliteMetadataStore } from './sqlite/metadata-store.js';

export async function openEmbeddedStores(dataDir: string): Promise<Stores> {
  // 0700: object bytes and metadata are readable by nobody but the server's user.
  await mkdirDurable(dataDir, 0o700);
  const metadata = await openSqliteMetadataStore(join(dataDir, 'metadata.sqlite'));
  try {
    const blobs = await openFsBlobStore(join(dataDir, 'blobs'));
    // Temp files are a crashed run's unfinished writes: no one can finish them.
    await blobs.cleanup();
    return { metadata, blobs };
  } catch (error) {
    await metadata.close();
    throw error;
  }
}
