/**
 * boto3 (botocore's strict XML parser) against the bucket settings added for
 * the SDK: accelerate, request payment, replication (with a real round trip),
 * notification, logging (with a delivered access log) and the metrics /
 * analytics / inventory / Intelligent-Tiering configurations. One Python
 * process does the calls and prints JSON; the checks are here. A second one,
 * after hanul's clock has moved, fetches the access log.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasBoto3, runCmd, startRig, type ClientRig } from '../s3-clients/helpers.js';

const SCRIPT = String.raw`
import json, sys, time, boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint, phase = sys.argv[1:3]
cfg = Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1})
s3 = boto3.client('s3', endpoint_url=endpoint, config=cfg)
out = {}
def err(fn, **kw):
    try:
        fn(**kw)
        return None
    except ClientError as e:
        r = e.response
        return {'status': r['ResponseMetadata']['HTTPStatusCode'], **r['Error']}
def body(r, key):
    return r.get(key)
if phase == 'logs':
    deadline = time.time() + 10
    while True:
        got = s3.list_objects_v2(Bucket='b3-logs', Prefix='logs/').get('Contents', [])
        if got or time.time() > deadline:
            break
        time.sleep(0.05)
    out['keys'] = [o['Key'] for o in got]
    out['text'] = s3.get_object(Bucket='b3-logs', Key=got[0]['Key'])['Body'].read().decode() if got else ''
    print(json.dumps(out))
    sys.exit(0)

for b in ['b3-src', 'b3-dst', 'b3-logs', 'b3.dotted', 'b3-pays']:
    s3.create_bucket(Bucket=b)

# Accelerate: nothing until set; Enabled kept; dots and a bad status refused.
out['accelBefore'] = {k: v for k, v in s3.get_bucket_accelerate_configuration(Bucket='b3-src').items() if k != 'ResponseMetadata'}
s3.put_bucket_accelerate_configuration(Bucket='b3-src', AccelerateConfiguration={'Status': 'Enabled'})
out['accel'] = s3.get_bucket_accelerate_configuration(Bucket='b3-src').get('Status')
out['accelDotted'] = err(s3.put_bucket_accelerate_configuration, Bucket='b3.dotted', AccelerateConfiguration={'Status': 'Enabled'})
out['accelBad'] = err(s3.put_bucket_accelerate_configuration, Bucket='b3-src', AccelerateConfiguration={'Status': 'On'})

# Request payment: BucketOwner by default; Requester kept; anonymous readers refused, the owner reads.
out['payerBefore'] = s3.get_bucket_request_payment(Bucket='b3-pays')['Payer']
s3.put_bucket_request_payment(Bucket='b3-pays', RequestPaymentConfiguration={'Payer': 'Requester'})
out['payer'] = s3.get_bucket_request_payment(Bucket='b3-pays')['Payer']
s3.put_object(Bucket='b3-pays', Key='k', Body=b'paid')
anon = boto3.client('s3', endpoint_url=endpoint, config=Config(signature_version=UNSIGNED, s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3.delete_public_access_block(Bucket='b3-pays')
s3.put_bucket_policy(Bucket='b3-pays', Policy=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::b3-pays/*'}]}))
out['payAnon'] = err(anon.get_object, Bucket='b3-pays', Key='k')
out['payOwner'] = s3.get_object(Bucket='b3-pays', Key='k')['Body'].read().decode()
out['payerBad'] = err(s3.put_bucket_request_payment, Bucket='b3-pays', RequestPaymentConfiguration={'Payer': 'Nobody'})

# Replication: put / get equal; S3's validation; a real round trip; delete.
iam = boto3.client('iam', endpoint_url=endpoint, region_name='us-east-1')
iam.create_role(RoleName='b3-rep', AssumeRolePolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': {'Service': 's3.amazonaws.com'}, 'Action': 'sts:AssumeRole'}]}))
iam.put_role_policy(RoleName='b3-rep', PolicyName='p', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': ['s3:GetObjectVersionForReplication', 's3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], 'Resource': ['arn:aws:s3:::b3-src/*', 'arn:aws:s3:::b3-dst/*']}]}))
role = 'arn:aws:iam::000000000000:role/b3-rep'
rule = lambda i, p, **kw: {'ID': i, 'Priority': p, 'Status': 'Enabled', 'Filter': {'Prefix': ''}, 'DeleteMarkerReplication': {'Status': 'Disabled'}, 'Destination': {'Bucket': 'arn:aws:s3:::b3-dst'}, **kw}
rep = {'Role': role, 'Rules': [
    rule('tagged', 1, Filter={'And': {'Prefix': 'docs/', 'Tags': [{'Key': 'a', 'Value': 'b'}]}}, Destination={'Bucket': 'arn:aws:s3:::b3-dst', 'StorageClass': 'STANDARD_IA', 'ReplicationTime': {'Status': 'Enabled', 'Time': {'Minutes': 15}}, 'Metrics': {'Status': 'Enabled', 'EventThreshold': {'Minutes': 15}}}),
    rule('rep', 2, Filter={'Prefix': 'rep/'}, DeleteMarkerReplication={'Status': 'Enabled'}),
]}
out['repUnversioned'] = err(s3.put_bucket_replication, Bucket='b3-src', ReplicationConfiguration=rep)
for b in ['b3-src', 'b3-dst']:
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={'Status': 'Enabled'})
out['repNone'] = err(s3.get_bucket_replication, Bucket='b3-src')
s3.put_bucket_replication(Bucket='b3-src', ReplicationConfiguration=rep)
out['repPut'] = rep
out['repGot'] = s3.get_bucket_replication(Bucket='b3-src')['ReplicationConfiguration']
out['repBadArn'] = err(s3.put_bucket_replication, Bucket='b3-src', ReplicationConfiguration={'Role': role, 'Rules': [rule('x', 1, Destination={'Bucket': 'b3-dst'})]})
out['repBadRole'] = err(s3.put_bucket_replication, Bucket='b3-src', ReplicationConfiguration={'Role': 'replicator', 'Rules': [rule('x', 1)]})
out['repDupId'] = err(s3.put_bucket_replication, Bucket='b3-src', ReplicationConfiguration={'Role': role, 'Rules': [rule('x', 1), rule('x', 2)]})
out['repDupPriority'] = err(s3.put_bucket_replication, Bucket='b3-src', ReplicationConfiguration={'Role': role, 'Rules': [rule('x', 1), rule('y', 1)]})
out['repDmTags'] = err(s3.put_bucket_replication, Bucket='b3-src', ReplicationConfiguration={'Role': role, 'Rules': [rule('x', 1, Filter={'Tag': {'Key': 'k', 'Value': 'v'}}, DeleteMarkerReplication={'Status': 'Enabled'})]})
put = s3.put_object(Bucket='b3-src', Key='rep/a.txt', Body=b'replicate me', ContentType='text/plain')
deadline = time.time() + 10
while True:
    status = s3.head_object(Bucket='b3-src', Key='rep/a.txt').get('ReplicationStatus')
    if status != 'PENDING' or time.time() > deadline:
        break
    time.sleep(0.05)
out['repSource'] = status
replica = s3.get_object(Bucket='b3-dst', Key='rep/a.txt')
out['replica'] = {'body': replica['Body'].read().decode(), 'status': replica.get('ReplicationStatus'), 'sameVersion': replica.get('VersionId') == put['VersionId'], 'contentType': replica.get('ContentType')}
s3.delete_bucket_replication(Bucket='b3-src')
out['repAfterDelete'] = err(s3.get_bucket_replication, Bucket='b3-src')

# Notification: an empty configuration; a destination is refused as unvalidated.
out['notifBefore'] = sorted(k for k in s3.get_bucket_notification_configuration(Bucket='b3-src') if k != 'ResponseMetadata')
s3.put_bucket_notification_configuration(Bucket='b3-src', NotificationConfiguration={})
out['notifBad'] = err(s3.put_bucket_notification_configuration, Bucket='b3-src', NotificationConfiguration={'QueueConfigurations': [{'QueueArn': 'arn:aws:sqs:us-east-1:000000000000:q', 'Events': ['s3:ObjectCreated:*']}]})

# Logging: grants of every grantee kind and a key format come back as put; a missing target refused.
owner = s3.list_buckets()['Owner']['ID']
grants = [
    {'Grantee': {'Type': 'Group', 'URI': 'http://acs.amazonaws.com/groups/global/AllUsers'}, 'Permission': 'READ'},
    {'Grantee': {'Type': 'CanonicalUser', 'ID': owner}, 'Permission': 'FULL_CONTROL'},
]
out['logBefore'] = s3.get_bucket_logging(Bucket='b3-src').get('LoggingEnabled')
logging = {'TargetBucket': 'b3-logs', 'TargetPrefix': 'part/', 'TargetGrants': grants, 'TargetObjectKeyFormat': {'PartitionedPrefix': {'PartitionDateSource': 'DeliveryTime'}}}
s3.put_bucket_logging(Bucket='b3-src', BucketLoggingStatus={'LoggingEnabled': logging})
out['logPut'] = logging
out['logGot'] = s3.get_bucket_logging(Bucket='b3-src').get('LoggingEnabled')
out['logBad'] = err(s3.put_bucket_logging, Bucket='b3-src', BucketLoggingStatus={'LoggingEnabled': {'TargetBucket': 'b3-none', 'TargetPrefix': 'x/'}})
s3.put_bucket_logging(Bucket='b3-src', BucketLoggingStatus={'LoggingEnabled': {'TargetBucket': 'b3-logs', 'TargetPrefix': 'logs/'}})
s3.put_object(Bucket='b3-src', Key='logged.txt', Body=b'hello')
s3.get_object(Bucket='b3-src', Key='logged.txt')['Body'].read()

# Metrics, analytics, inventory, Intelligent-Tiering: put, get equal, list, delete, gone; one bad input each.
kinds = {
    'metrics': ('MetricsConfiguration', {'Id': 'm1', 'Filter': {'And': {'Prefix': 'p/', 'Tags': [{'Key': 'k', 'Value': 'v'}]}}}, 'MetricsConfigurationList'),
    'analytics': ('AnalyticsConfiguration', {'Id': 'a1', 'Filter': {'Prefix': 'p/'}, 'StorageClassAnalysis': {'DataExport': {'OutputSchemaVersion': 'V_1', 'Destination': {'S3BucketDestination': {'Format': 'CSV', 'BucketAccountId': '000000000000', 'Bucket': 'arn:aws:s3:::b3-logs', 'Prefix': 'an/'}}}}}, 'AnalyticsConfigurationList'),
    'inventory': ('InventoryConfiguration', {'Id': 'i1', 'IsEnabled': True, 'IncludedObjectVersions': 'Current', 'Filter': {'Prefix': 'p/'}, 'OptionalFields': ['Size', 'ETag', 'StorageClass'], 'Schedule': {'Frequency': 'Weekly'}, 'Destination': {'S3BucketDestination': {'AccountId': '000000000000', 'Bucket': 'arn:aws:s3:::b3-logs', 'Format': 'Parquet', 'Prefix': 'inv/', 'Encryption': {'SSEKMS': {'KeyId': 'arn:aws:kms:us-east-1:000000000000:key/1234'}}}}}, 'InventoryConfigurationList'),
    'intelligent_tiering': ('IntelligentTieringConfiguration', {'Id': 't1', 'Status': 'Enabled', 'Filter': {'Prefix': 'p/'}, 'Tierings': [{'Days': 90, 'AccessTier': 'ARCHIVE_ACCESS'}, {'Days': 730, 'AccessTier': 'DEEP_ARCHIVE_ACCESS'}]}, 'IntelligentTieringConfigurationList'),
}
bad = {
    'metrics': {'Id': 'm1', 'Filter': {'Prefix': 'a', 'Tag': {'Key': 'k', 'Value': 'v'}}},
    'analytics': {'Id': 'a1', 'StorageClassAnalysis': {'DataExport': {'OutputSchemaVersion': 'V_1', 'Destination': {'S3BucketDestination': {'Format': 'CSV', 'Bucket': 'b3-logs'}}}}},
    'inventory': {'Id': 'i1', 'IsEnabled': True, 'IncludedObjectVersions': 'Current', 'Schedule': {'Frequency': 'Weekly'}, 'OptionalFields': ['Colour'], 'Destination': {'S3BucketDestination': {'Bucket': 'arn:aws:s3:::b3-logs', 'Format': 'CSV'}}},
    'intelligent_tiering': {'Id': 't1', 'Status': 'Enabled', 'Tierings': [{'Days': 179, 'AccessTier': 'DEEP_ARCHIVE_ACCESS'}]},
}
for kind, (member, conf, list_key) in kinds.items():
    put_fn = getattr(s3, 'put_bucket_%s_configuration' % kind)
    get_fn = getattr(s3, 'get_bucket_%s_configuration' % kind)
    del_fn = getattr(s3, 'delete_bucket_%s_configuration' % kind)
    list_fn = getattr(s3, 'list_bucket_%s_configurations' % kind)
    put_fn(Bucket='b3-src', Id=conf['Id'], **{member: conf})
    listed = list_fn(Bucket='b3-src')
    o = {'put': conf, 'got': get_fn(Bucket='b3-src', Id=conf['Id'])[member], 'listed': listed.get(list_key), 'truncated': listed.get('IsTruncated')}
    o['bad'] = err(put_fn, Bucket='b3-src', Id=conf['Id'], **{member: bad[kind]})
    o['badId'] = err(put_fn, Bucket='b3-src', Id='no spaces', **{member: {**conf, 'Id': 'no spaces'}})
    del_fn(Bucket='b3-src', Id=conf['Id'])
    o['gone'] = err(get_fn, Bucket='b3-src', Id=conf['Id'])
    o['delGone'] = err(del_fn, Bucket='b3-src', Id=conf['Id'])
    o['empty'] = list_fn(Bucket='b3-src').get(list_key)
    out[kind] = o
print(json.dumps(out))
`;

type Err = { status: number; Code: string; Message: string; [k: string]: unknown } | null;
interface KindOut {
  put: Record<string, unknown>;
  got: Record<string, unknown>;
  listed: unknown[];
  truncated: boolean;
  bad: Err;
  badId: Err;
  gone: Err;
  delGone: Err;
  empty: unknown;
}

describe('s3 bucket settings through boto3', { skip: hasBoto3() ? false : 'boto3 not installed' }, () => {
  let rig: ClientRig;
  before(async () => {
    rig = await startRig({ tls: false });
  });
  after(() => rig.stop());

  it('every setting put, read back equal, deleted; S3 error codes; replication and access log round trips', async () => {
    const script = join(rig.dir, 'settings.py');
    await writeFile(script, SCRIPT);
    const out = JSON.parse(await runCmd('python3', [script, rig.endpoint, 'settings'], rig.env, 60_000)) as Record<string, unknown> & Record<'metrics' | 'analytics' | 'inventory' | 'intelligent_tiering', KindOut>;
    const code = (k: string) => {
      const e = out[k] as Err;
      return e && [e.status, e.Code];
    };

    assert.deepEqual(out['accelBefore'], {});
    assert.equal(out['accel'], 'Enabled');
    assert.deepEqual(code('accelDotted'), [400, 'InvalidRequest']);
    assert.deepEqual(code('accelBad'), [400, 'MalformedXML']);

    assert.equal(out['payerBefore'], 'BucketOwner');
    assert.equal(out['payer'], 'Requester');
    assert.deepEqual(code('payAnon'), [403, 'AccessDenied']);
    assert.equal(out['payOwner'], 'paid');
    assert.deepEqual(code('payerBad'), [400, 'MalformedXML']);

    assert.deepEqual(code('repUnversioned'), [400, 'InvalidRequest']);
    assert.deepEqual(code('repNone'), [404, 'ReplicationConfigurationNotFoundError']);
    assert.deepEqual(out['repGot'], out['repPut']);
    assert.deepEqual(code('repBadArn'), [400, 'InvalidArgument']);
    assert.deepEqual(code('repBadRole'), [400, 'InvalidArgument']);
    assert.deepEqual(code('repDupId'), [400, 'InvalidArgument']);
    assert.deepEqual(code('repDupPriority'), [400, 'InvalidArgument']);
    assert.deepEqual(code('repDmTags'), [400, 'InvalidRequest']);
    assert.equal(out['repSource'], 'COMPLETED');
    assert.deepEqual(out['replica'], { body: 'replicate me', status: 'REPLICA', sameVersion: true, contentType: 'text/plain' });
    assert.deepEqual(code('repAfterDelete'), [404, 'ReplicationConfigurationNotFoundError']);

    assert.deepEqual(out['notifBefore'], []);
    const notif = out['notifBad'] as NonNullable<Err>;
    assert.deepEqual([notif.status, notif.Code, notif.Message], [400, 'InvalidArgument', 'Unable to validate the following destination configurations']);
    assert.equal(notif['ArgumentName1'], 'arn:aws:sqs:us-east-1:000000000000:q');

    assert.equal(out['logBefore'], null);
    // botocore reads the grantee's kind from the xsi:type attribute.
    assert.deepEqual(out['logGot'], out['logPut']);
    assert.deepEqual(code('logBad'), [400, 'InvalidTargetBucketForLogging']);

    for (const kind of ['metrics', 'analytics', 'inventory', 'intelligent_tiering'] as const) {
      const o = out[kind];
      assert.deepEqual(o.got, o.put, kind);
      assert.deepEqual(o.listed, [o.put], kind);
      assert.equal(o.truncated, false, kind);
      assert.deepEqual([o.bad?.status, o.bad?.Code], [400, kind === 'metrics' || kind === 'inventory' ? 'MalformedXML' : 'InvalidArgument'], kind);
      assert.deepEqual([o.badId?.status, o.badId?.Code], [400, 'InvalidArgument'], kind);
      assert.deepEqual([o.gone?.status, o.gone?.Code], [404, 'NoSuchConfiguration'], kind);
      assert.deepEqual([o.delGone?.status, o.delGone?.Code], [404, 'NoSuchConfiguration'], kind);
      assert.equal(o.empty, null, kind);
    }

    // Nothing is delivered before hanul's clock has moved past the 60 s interval.
    rig.server.clock.advance(61_000);
    const logs = JSON.parse(await runCmd('python3', [script, rig.endpoint, 'logs'], rig.env, 30_000)) as { keys: string[]; text: string };
    assert.match(logs.keys[0] ?? '', /^logs\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/);
    assert.match(logs.text, / REST\.PUT\.OBJECT logged\.txt "PUT \/b3-src\/logged\.txt HTTP\/1\.1" 200 /);
    assert.match(logs.text, / REST\.GET\.OBJECT logged\.txt .* 200 - 5 5 /);
  });
});
