/**
 * Errors the storage adapters raise for conditions a caller is expected to
 * handle (as opposed to I/O failures, which surface as the original error).
 * They live here, not in an adapter, so services can test `instanceof`
 * without depending on which adapter is running.
 */

/** A blob write received more than its `maxBytes`: S3 maps this to EntityTooLarge. */
export class BlobTooLargeError extends Error {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`blob exceeds the limit of ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/**
 * The blob id is unknown. Metadata pointing at a missing blob is a bug or
 * damage, so services should usually turn this into a 500, not a 404.
 */
export class BlobNotFoundError extends Error {
  readonly id: string;
  constructor(id: string) {
    super(`blob not found: ${id}`);
    this.name = 'BlobNotFoundError';
    this.id = id;
  }
}

/** The store was closed; nothing more can be read or written through it. */
export class StoreClosedError extends Error {
  constructor(what: string) {
    super(`${what} is closed`);
    this.name = 'StoreClosedError';
  }
}

/** A transaction object was used after its transaction had ended. */
export class TransactionEndedError extends Error {
  constructor() {
    super('transaction already ended: the tx object must only be used inside its fn');
    this.name = 'TransactionEndedError';
  }
}
