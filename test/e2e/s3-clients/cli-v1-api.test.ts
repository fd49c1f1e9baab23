// The machine's Python AWS CLI (aws-cli 1.x from PATH) over plain HTTP.
import { describeCli } from './cli-scenario.js';
import { findCliV1 } from './helpers.js';

describeCli('S3 with AWS CLI v1 over HTTP', findCliV1(), false, 's3api');
