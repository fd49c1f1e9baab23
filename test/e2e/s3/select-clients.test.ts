/**
 * S3 Select through boto3 (`select_object_content`, botocore's event-stream
 * parser) and the AWS CLI v2 (`aws s3api select-object-content`, which
 * writes the records to a file): one process each, kept few as the CLIs
 * start slowly.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cliVersion, hasBoto3, runCmd, startRig, type ClientRig } from '../s3-clients/helpers.js';

const CSV = 'id,name,city\n1,ann,Oslo\n2,bob,Rio\n3,cy,Oslo\n';

const SCRIPT = String.raw`
import json, sys, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint = sys.argv[1]
s3 = boto3.client('s3', endpoint_url=endpoint, config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
out = {'records': '', 'events': []}
r = s3.select_object_content(Bucket='sel-clients', Key='people.csv.gz', ExpressionType='SQL',
    Expression="SELECT s.name FROM S3Object s WHERE s.city = 'Oslo'",
    InputSerialization={'CSV': {'FileHeaderInfo': 'USE'}, 'CompressionType': 'GZIP'},
    OutputSerialization={'JSON': {}}, RequestProgress={'Enabled': True})
for ev in r['Payload']:
    out['events'].append(list(ev.keys())[0])
    if 'Records' in ev:
        out['records'] += ev['Records']['Payload'].decode()
    if 'Stats' in ev:
        out['stats'] = ev['Stats']['Details']
try:
    s3.select_object_content(Bucket='sel-clients', Key='people.csv', ExpressionType='SQL', Expression='SELECT * FROM S3Object ORDER BY id',
        InputSerialization={'CSV': {}}, OutputSerialization={'CSV': {}})
    out['error'] = None
except ClientError as e:
    out['error'] = {'status': e.response['ResponseMetadata']['HTTPStatusCode'], **e.response['Error']}
print(json.dumps(out))
`;

const cli = cliVersion('/usr/bin/aws') ? '/usr/bin/aws' : undefined;

describe('s3 e2e: S3 Select through boto3 and the AWS CLI v2', () => {
  let rig: ClientRig;
  before(async () => {
    rig = await startRig({ tls: false });
    const s3 = new S3Client({ ...rig.server.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'sel-clients' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sel-clients', Key: 'people.csv', Body: CSV }));
    await s3.send(new PutObjectCommand({ Bucket: 'sel-clients', Key: 'people.csv.gz', Body: gzipSync(CSV) }));
    s3.destroy();
  });
  after(() => rig.stop());

  it('boto3 select_object_content: GZIP CSV to JSON, Progress, Stats, End; an unsupported clause is the AWS error', { skip: hasBoto3() ? false : 'boto3 not installed' }, async () => {
    const out = JSON.parse(await runCmd('python3', ['-c', SCRIPT, rig.endpoint], rig.env)) as {
      records: string;
      events: string[];
      stats: { BytesScanned: number; BytesProcessed: number; BytesReturned: number };
      error: { status: number; Code: string } | null;
    };
    assert.equal(out.records, '{"name":"ann"}\n{"name":"cy"}\n');
    assert.deepEqual(out.events, ['Records', 'Progress', 'Stats', 'End']);
    assert.equal(out.stats.BytesProcessed, CSV.length);
    assert.equal(out.stats.BytesReturned, out.records.length);
    assert.deepEqual([out.error?.status, out.error?.Code], [400, 'UnsupportedSqlOperation']);
  });

  it('aws s3api select-object-content writes the records to the outfile', { skip: cli ? false : 'no /usr/bin/aws' }, async () => {
    const aws = (...args: string[]) => runCmd(cli as string, ['--endpoint-url', rig.endpoint, ...args], rig.env);
    const file = join(rig.dir, 'out.csv');
    const common = ['s3api', 'select-object-content', '--bucket', 'sel-clients', '--key', 'people.csv', '--expression-type', 'SQL', '--input-serialization', '{"CSV":{"FileHeaderInfo":"USE"}}', '--output-serialization', '{"CSV":{}}'];
    await aws(...common, '--expression', "SELECT id, name FROM S3Object WHERE city = 'Oslo'", file);
    assert.equal(await readFile(file, 'utf8'), '1,ann\n3,cy\n');
  });
});
