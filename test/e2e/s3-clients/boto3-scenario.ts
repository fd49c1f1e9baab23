/**
 * boto3 (the machine's Python) against hanul over HTTP or TLS: upload_file /
 * download_file of 20 MiB with a lowered multipart threshold (parts of 5 MiB),
 * put_object with a SHA-256 checksum read back with ChecksumMode, a presigned
 * GET, and list_objects_v2 paging. The Python side prints JSON; the checks
 * are here.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchUrl, hasBoto3, randomFile, runCmd, sha256File, startRig, type ClientRig } from './helpers.js';

const SCRIPT = String.raw`
import json, sys, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
endpoint, src, dst = sys.argv[1:4]
s3 = boto3.client('s3', endpoint_url=endpoint, config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
out = {}
s3.create_bucket(Bucket='boto')
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=4)
s3.upload_file(src, 'boto', 'big/file.bin', Config=cfg)
head = s3.head_object(Bucket='boto', Key='big/file.bin', ChecksumMode='ENABLED')
out['etag'] = head['ETag']
out['length'] = head['ContentLength']
out['headChecksums'] = {k: v for k, v in head.items() if k.startswith('Checksum')}
s3.download_file('boto', 'big/file.bin', dst, Config=cfg)
put = s3.put_object(Bucket='boto', Key='small.txt', Body=b'hello boto', ChecksumAlgorithm='SHA256')
out['putSha256'] = put.get('ChecksumSHA256')
got = s3.get_object(Bucket='boto', Key='small.txt', ChecksumMode='ENABLED')
out['getBody'] = got['Body'].read().decode()
out['getSha256'] = got.get('ChecksumSHA256')
out['presigned'] = s3.generate_presigned_url('get_object', Params={'Bucket': 'boto', 'Key': 'small.txt'}, ExpiresIn=300)
for i in range(25):
    s3.put_object(Bucket='boto', Key='page/%03d' % i, Body=b'')
pages = s3.get_paginator('list_objects_v2').paginate(Bucket='boto', Prefix='page/', PaginationConfig={'PageSize': 10})
out['pages'] = [[o['Key'] for o in p.get('Contents', [])] for p in pages]
out['truncated'] = s3.list_objects_v2(Bucket='boto', Prefix='page/', MaxKeys=10)['IsTruncated']
try:
    s3.get_object(Bucket='boto', Key='missing')
    out['missing'] = 'found?'
except s3.exceptions.NoSuchKey as e:
    out['missing'] = e.response['Error']['Code']
print(json.dumps(out))
`;

interface Out {
  etag: string;
  length: number;
  headChecksums: Record<string, string>;
  putSha256: string;
  getBody: string;
  getSha256: string;
  presigned: string;
  pages: string[][];
  truncated: boolean;
  missing: string;
}

export function describeBoto3(tls: boolean): void {
  describe(`S3 with boto3 over ${tls ? 'TLS' : 'HTTP'}`, { skip: hasBoto3() ? false : 'boto3 not installed' }, () => {
    let rig: ClientRig;
    before(async () => {
      rig = await startRig({ tls });
    });
    after(() => rig.stop());

    it('upload_file/download_file (20 MiB in 5 MiB parts), checksums, presign, list_objects_v2 paging', async () => {
      const script = join(rig.dir, 'boto.py');
      await writeFile(script, SCRIPT);
      const src = join(rig.dir, 'src.bin');
      const dst = join(rig.dir, 'dst.bin');
      const hash = await randomFile(src, 20 * 1024 * 1024);
      const out = JSON.parse(await runCmd('python3', [script, rig.endpoint, src, dst], rig.env, 120_000)) as Out;
      assert.equal(out.length, 20 * 1024 * 1024);
      assert.match(out.etag, /-4"$/, 'four 5 MiB parts');
      assert.equal(await sha256File(dst), hash, '20 MiB round-trips byte-identical');
      const sha = (await import('node:crypto')).createHash('sha256').update('hello boto').digest('base64');
      assert.equal(out.putSha256, sha);
      assert.equal(out.getSha256, sha);
      assert.equal(out.getBody, 'hello boto');
      const got = await fetchUrl(out.presigned, rig.caFile);
      assert.equal(got.status, 200, got.body.toString());
      assert.equal(got.body.toString(), 'hello boto');
      assert.deepEqual(out.pages.map((p) => p.length), [10, 10, 5]);
      assert.deepEqual(out.pages.flat(), Array.from({ length: 25 }, (_, i) => `page/${String(i).padStart(3, '0')}`));
      assert.equal(out.truncated, true);
      assert.equal(out.missing, 'NoSuchKey');
    });
  });
}
