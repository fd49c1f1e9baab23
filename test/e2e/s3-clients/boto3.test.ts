// boto3 over plain HTTP.
import { describeBoto3 } from './boto3-scenario.js';

describeBoto3(false);
