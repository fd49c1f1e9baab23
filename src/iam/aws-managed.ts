/**
 * A few AWS managed policies people attach by ARN (arn:aws:iam::aws:policy/…),
 * for the services hanul serves. Read-only: they cannot be changed or deleted.
 */
export interface AwsManagedPolicy {
  name: string;
  path: string;
  id: string;
  description: string;
  document: string;
}

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (Action: string | string[], Resource: string | string[] = '*') => ({ Effect: 'Allow', Action, Resource });
const READ = ['s3:Get*', 's3:List*', 'kms:Describe*', 'kms:Get*', 'kms:List*', 'kinesis:Describe*', 'kinesis:Get*', 'kinesis:List*', 'firehose:Describe*', 'firehose:List*', 'shield:Describe*', 'shield:Get*', 'shield:List*', 'iam:Get*', 'iam:List*', 'iam:Generate*', 'iam:Simulate*', 'cloudtrail:Describe*', 'cloudtrail:Get*', 'cloudtrail:List*', 'cloudtrail:LookupEvents', 'sts:GetCallerIdentity'];

const LIST: AwsManagedPolicy[] = [
  { name: 'AdministratorAccess', path: '/', id: 'ANPAIWMBCKSKIEE64ZLYK', description: 'Provides full access to AWS services and resources.', document: doc(allow('*')) },
  {
    name: 'PowerUserAccess', path: '/', id: 'ANPAJYRXTHIB4FOVS3ZXS',
    description: 'Provides full access to AWS services and resources, but does not allow management of Users and groups.',
    document: doc({ Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' }, allow(['iam:CreateServiceLinkedRole', 'iam:DeleteServiceLinkedRole', 'iam:ListRoles'])),
  },
  { name: 'ReadOnlyAccess', path: '/', id: 'ANPAILL3HVNFSB6DCOWYQ', description: 'Provides read-only access to AWS services and resources.', document: doc(allow(READ)) },
  { name: 'IAMFullAccess', path: '/', id: 'ANPAI7XKCFMBPM3QQRRVQ', description: 'Provides full access to IAM via the AWS Management Console.', document: doc(allow(['iam:*', 'organizations:DescribeAccount', 'organizations:DescribeOrganization'])) },
  { name: 'IAMReadOnlyAccess', path: '/', id: 'ANPAJKSO7NDY4T57MWDSQ', description: 'Provides read only access to IAM via the AWS Management Console.', document: doc(allow(['iam:GenerateCredentialReport', 'iam:GenerateServiceLastAccessedDetails', 'iam:Get*', 'iam:List*', 'iam:SimulateCustomPolicy', 'iam:SimulatePrincipalPolicy'])) },
  { name: 'AmazonS3FullAccess', path: '/', id: 'ANPAIFIR6V6BVTRAHWINE', description: 'Provides full access to all buckets via the AWS Management Console.', document: doc(allow(['s3:*', 's3-object-lambda:*'])) },
  { name: 'AmazonS3ReadOnlyAccess', path: '/', id: 'ANPAIZTJ4DXE7G6AGAE6M', description: 'Provides read only access to all buckets via the AWS Management Console.', document: doc(allow(['s3:Get*', 's3:List*', 's3:Describe*', 's3-object-lambda:Get*', 's3-object-lambda:List*'])) },
  { name: 'AmazonKinesisFullAccess', path: '/', id: 'ANPAIVF32HAMOXCUYRAYE', description: 'Provides full access to all streams via the AWS Management Console.', document: doc(allow('kinesis:*')) },
  { name: 'AmazonKinesisReadOnlyAccess', path: '/', id: 'ANPAIOCMTDT5RLKZ2CAJO', description: 'Provides read only access to all streams via the AWS Management Console.', document: doc(allow(['kinesis:Get*', 'kinesis:List*', 'kinesis:Describe*'])) },
  { name: 'AmazonKinesisFirehoseFullAccess', path: '/', id: 'ANPAJMZQMTZ7FRBFHHAHI', description: 'Provides full access to all Amazon Kinesis Firehose Delivery Streams.', document: doc(allow('firehose:*')) },
  { name: 'AWSKeyManagementServicePowerUser', path: '/', id: 'ANPAJNPP7PPPPMJRV2SA4', description: 'Provides access to AWS Key Management Service (AWS KMS).', document: doc(allow(['kms:CreateAlias', 'kms:CreateKey', 'kms:DeleteAlias', 'kms:Describe*', 'kms:GenerateRandom', 'kms:Get*', 'kms:List*', 'kms:TagResource', 'kms:UntagResource', 'iam:ListGroups', 'iam:ListRoles', 'iam:ListUsers'])) },
  { name: 'AWSShieldDRTAccessPolicy', path: '/service-role/', id: 'ANPAJWNCSZ4PARLO37VVY', description: 'Provides access to AWS Shield resources.', document: doc(allow(['shield:*'])) },
  { name: 'AWSCloudTrail_FullAccess', path: '/', id: 'ANPAIQNUJTQYDRJPC3BNK', description: 'Provides full access to AWS CloudTrail.', document: doc(allow('cloudtrail:*')) },
  { name: 'AWSCloudTrail_ReadOnlyAccess', path: '/', id: 'ANPAJDU7KJADWBSEQ3E7S', description: 'Provides read only access to AWS CloudTrail.', document: doc(allow(['cloudtrail:Get*', 'cloudtrail:Describe*', 'cloudtrail:List*', 'cloudtrail:LookupEvents'])) },
];

export const AWS_MANAGED_CREATED = new Date('2015-02-06T18:39:46Z');

export function awsManagedArn(p: AwsManagedPolicy): string {
  return `arn:aws:iam::aws:policy${p.path}${p.name}`;
}

const BY_ARN = new Map(LIST.map((p) => [awsManagedArn(p), p]));

export function awsManagedPolicy(arn: string): AwsManagedPolicy | undefined {
  return BY_ARN.get(arn);
}

export function awsManagedPolicies(): readonly AwsManagedPolicy[] {
  return LIST;
}
