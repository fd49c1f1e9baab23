import type { ServiceFactory } from '../aws/service.js';
import { createCloudTrailService } from './cloudtrail/index.js';
import { createFirehoseService } from './firehose/index.js';
import { createIamService } from './iam/index.js';
import { createKinesisService } from './kinesis/index.js';
import { createKmsService } from './kms/index.js';
import { createS3Service } from './s3/index.js';
import { createShieldService } from './shield/index.js';
import { createStsService } from './sts/index.js';

/** Every service hanul serves; each answers on the one port. */
export const SERVICES: readonly ServiceFactory[] = [
  createS3Service,
  createKmsService,
  createKinesisService,
  createFirehoseService,
  createShieldService,
  createIamService,
  createStsService,
  createCloudTrailService,
];
