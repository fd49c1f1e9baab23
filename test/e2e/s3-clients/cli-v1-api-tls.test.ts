// The machine's Python AWS CLI (aws-cli 1.x) over HTTPS: checksums travel in aws-chunked trailers.
import { describeCli } from './cli-scenario.js';
import { findCliV1 } from './helpers.js';

describeCli('S3 with AWS CLI v1 over TLS', findCliV1(), true, 's3api');
