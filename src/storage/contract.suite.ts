/**
 * The one suite every storage adapter must pass: an adapter's test file calls
 * these with a harness that opens a fresh, empty store.
 */
export { runMetadataStoreContract, TRICKY_KEYS, type MetadataHarness } from './contract/metadata.js';
export { runBlobStoreContract, type BlobHarness } from './contract/blob.js';
export { runStreamLogContract, type StreamLogHarness } from './contract/stream-log.js';
