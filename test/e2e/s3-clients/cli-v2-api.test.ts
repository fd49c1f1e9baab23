// Debian's AWS CLI v2 (/usr/bin/aws, package awscli) over plain HTTP.
import { describeCli } from './cli-scenario.js';
import { cliVersion } from './helpers.js';

describeCli('S3 with AWS CLI v2 over HTTP', cliVersion('/usr/bin/aws')?.startsWith('aws-cli/2.') ? '/usr/bin/aws' : undefined, false, 's3api');
