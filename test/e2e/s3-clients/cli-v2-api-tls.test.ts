// Debian's AWS CLI v2 over HTTPS: checksums travel in aws-chunked trailers.
import { describeCli } from './cli-scenario.js';
import { cliVersion } from './helpers.js';

describeCli('S3 with AWS CLI v2 over TLS', cliVersion('/usr/bin/aws')?.startsWith('aws-cli/2.') ? '/usr/bin/aws' : undefined, true, 's3api');
