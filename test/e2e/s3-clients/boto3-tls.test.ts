// boto3 over HTTPS: checksums travel in aws-chunked trailers.
import { describeBoto3 } from './boto3-scenario.js';

describeBoto3(true);
