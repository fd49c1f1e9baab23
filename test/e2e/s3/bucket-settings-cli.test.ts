/**
 * The AWS CLI v2 (/usr/bin/aws) and aws-cli 1.x (the Python CLI on PATH)
 * against the bucket settings: accelerate, request payment, replication (a
 * real round trip), notification, logging (a delivered access log) and the
 * metrics / analytics / inventory / Intelligent-Tiering configurations. Each
 * setting is put, read back (the CLI's JSON equals what was put), deleted
 * where S3 has a delete, and one bad input answers S3's error code. The two
 * CLIs run side by side on one server, each on its own buckets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListBucketsCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { cliVersion, findCliV1, runCmd, startRig, type ClientRig } from '../s3-clients/helpers.js';
import { waitFor } from '../../support/hanul.js';

const v2 = cliVersion('/usr/bin/aws')?.startsWith('aws-cli/2.') ? '/usr/bin/aws' : undefined;
const v1 = findCliV1();
const CLIS = [...(v2 ? [{ name: 'c2', bin: v2 }] : []), ...(v1 ? [{ name: 'c1', bin: v1 }] : [])];
const ROLE = 'arn:aws:iam::000000000000:role/cli-rep';

describe('s3 bucket settings through the AWS CLI v2 and v1', { skip: CLIS.length ? false : 'no AWS CLI' }, () => {
  let rig: ClientRig;
  let owner = '';
  before(async () => {
    rig = await startRig({ tls: false });
    const s3 = new S3Client({ ...rig.server.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    owner = (await s3.send(new ListBucketsCommand({}))).Owner?.ID ?? '';
    const iam = new IAMClient({ ...rig.server.clientConfig, maxAttempts: 1 });
    for (const { name } of CLIS) {
      for (const b of ['src', 'dst', 'logs', 'dotted']) await s3.send(new CreateBucketCommand({ Bucket: b === 'dotted' ? `${name}.dotted` : `${name}-${b}` }));
      for (const b of ['src', 'dst']) await s3.send(new PutBucketVersioningCommand({ Bucket: `${name}-${b}`, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    await iam.send(new CreateRoleCommand({ RoleName: 'cli-rep', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const allow = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObjectVersionForReplication', 's3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: ['arn:aws:s3:::c?-src/*', 'arn:aws:s3:::c?-dst/*'] }] };
    await iam.send(new PutRolePolicyCommand({ RoleName: 'cli-rep', PolicyName: 'replicate', PolicyDocument: JSON.stringify(allow) }));
    s3.destroy();
    iam.destroy();
  });
  after(() => rig.stop());

  const client = (bin: string, full = true) => {
    const run = (...args: string[]) => runCmd(bin, ['--endpoint-url', rig.endpoint, '--output', 'json', 's3api', ...args], rig.env, 60_000);
    return {
      run,
      /** The command's JSON output (`{}` when it printed nothing, as for an empty configuration). */
      json: async (...args: string[]) => {
        const text = (await run(...args)).trim();
        return (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      },
      /** Fails with S3's error `code` (the CLIs print `An error occurred (<code>)`). */
      fails: async (code: string, ...args: string[]) => {
        if (!full) return;
        await assert.rejects(run(...args), (e: Error) => {
          assert.match(e.message, new RegExp(`An error occurred \\(${code}\\)`), `${args.join(' ')}`);
          return true;
        });
      },
    };
  };

  /** `full`: every call; else (aws-cli 1, whose parser boto3's test covers too) each Put and Get only. */
  const scenario = async (p: string, bin: string, full: boolean) => {
    const { run, json, fails } = client(bin, full);
    const src = `${p}-src`;
    const j = JSON.stringify;

    const accelerate = async () => {
      if (full) assert.deepEqual(await json('get-bucket-accelerate-configuration', '--bucket', src), {});
      await run('put-bucket-accelerate-configuration', '--bucket', src, '--accelerate-configuration', 'Status=Suspended');
      assert.deepEqual(await json('get-bucket-accelerate-configuration', '--bucket', src), { Status: 'Suspended' });
      await fails('InvalidRequest', 'put-bucket-accelerate-configuration', '--bucket', `${p}.dotted`, '--accelerate-configuration', 'Status=Enabled');
      await fails('NoSuchBucket', 'get-bucket-accelerate-configuration', '--bucket', `${p}-none`);
    };

    const requestPayment = async () => {
      await run('put-bucket-request-payment', '--bucket', `${p}-dst`, '--request-payment-configuration', 'Payer=Requester');
      assert.deepEqual(await json('get-bucket-request-payment', '--bucket', `${p}-dst`), { Payer: 'Requester' });
      await fails('MalformedXML', 'put-bucket-request-payment', '--bucket', `${p}-dst`, '--request-payment-configuration', 'Payer=Nobody');
      await fails('NoSuchBucket', 'get-bucket-request-payment', '--bucket', `${p}-none`);
      if (full) await run('put-bucket-request-payment', '--bucket', `${p}-dst`, '--request-payment-configuration', 'Payer=BucketOwner');
    };

    const replication = async () => {
      await fails('ReplicationConfigurationNotFoundError', 'get-bucket-replication', '--bucket', src);
      const rule = (ID: string, Priority: number, extra: Record<string, unknown> = {}) => ({ ID, Priority, Status: 'Enabled', Filter: { Prefix: '' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::${p}-dst` }, ...extra });
      const conf = {
        Role: ROLE,
        Rules: [
          rule('tagged', 1, { Filter: { And: { Prefix: 'docs/', Tags: [{ Key: 'a', Value: 'b' }] } }, Destination: { Bucket: `arn:aws:s3:::${p}-dst`, StorageClass: 'GLACIER_IR', ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } }, Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } } } }),
          rule('all', 2, { DeleteMarkerReplication: { Status: 'Enabled' } }),
        ],
      };
      await run('put-bucket-replication', '--bucket', src, '--replication-configuration', j(conf));
      assert.deepEqual(await json('get-bucket-replication', '--bucket', src), { ReplicationConfiguration: conf });
      await fails('InvalidArgument', 'put-bucket-replication', '--bucket', src, '--replication-configuration', j({ Role: ROLE, Rules: [rule('x', 1), rule('x', 2)] }));
      if (!full) return;
      // The round trip: the copy is a REPLICA with the same version id; the source says COMPLETED.
      const put = await json('put-object', '--bucket', src, '--key', 'rep/a.txt', '--content-type', 'text/plain');
      const status = await waitFor(async () => {
        const s = (await json('head-object', '--bucket', src, '--key', 'rep/a.txt'))['ReplicationStatus'];
        return s === 'PENDING' ? undefined : s;
      }, { what: 'the source to leave PENDING', timeoutMs: 20_000, intervalMs: 100 });
      assert.equal(status, 'COMPLETED');
      const replica = await json('head-object', '--bucket', `${p}-dst`, '--key', 'rep/a.txt');
      assert.deepEqual([replica['ReplicationStatus'], replica['VersionId'], replica['ContentType']], ['REPLICA', put['VersionId'], 'text/plain']);
      await run('delete-bucket-replication', '--bucket', src);
      await fails('NoSuchBucket', 'delete-bucket-replication', '--bucket', `${p}-none`);
      await fails('ReplicationConfigurationNotFoundError', 'get-bucket-replication', '--bucket', src);
    };

    const notification = async () => {
      await run('put-bucket-notification-configuration', '--bucket', src, '--notification-configuration', '{}');
      assert.deepEqual(await json('get-bucket-notification-configuration', '--bucket', src), {});
      await fails('NoSuchBucket', 'get-bucket-notification-configuration', '--bucket', `${p}-none`);
      await fails('InvalidArgument', 'put-bucket-notification-configuration', '--bucket', src, '--notification-configuration', j({ TopicConfigurations: [{ TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Events: ['s3:ObjectRemoved:*'] }] }));
    };

    const logging = async () => {
      if (full) assert.deepEqual(await json('get-bucket-logging', '--bucket', src), {});
      const conf = {
        TargetBucket: `${p}-logs`,
        TargetPrefix: 'grants/',
        TargetGrants: [
          { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers' }, Permission: 'READ' },
          { Grantee: { Type: 'CanonicalUser', ID: owner }, Permission: 'FULL_CONTROL' },
        ],
      };
      await run('put-bucket-logging', '--bucket', src, '--bucket-logging-status', j({ LoggingEnabled: conf }));
      assert.deepEqual(await json('get-bucket-logging', '--bucket', src), { LoggingEnabled: conf });
      await fails('NoSuchBucket', 'get-bucket-logging', '--bucket', `${p}-none`);
      await fails('InvalidTargetBucketForLogging', 'put-bucket-logging', '--bucket', src, '--bucket-logging-status', j({ LoggingEnabled: { TargetBucket: `${p}-none`, TargetPrefix: 'x/' } }));
      await run('put-bucket-logging', '--bucket', src, '--bucket-logging-status', j({ LoggingEnabled: { TargetBucket: `${p}-logs`, TargetPrefix: 'logs/' } }));
      await run('put-object', '--bucket', src, '--key', 'logged.txt');
    };

    const config = async (kind: string, member: string, conf: { Id: string } & Record<string, unknown>, bad: { code: string; conf: unknown }) => {
      const id = conf.Id;
      await run(`put-bucket-${kind}-configuration`, '--bucket', src, '--id', id, `--${kind}-configuration`, j(conf));
      assert.deepEqual(await json(`get-bucket-${kind}-configuration`, '--bucket', src, '--id', id), { [member]: conf }, kind);
      if (!full) return;
      const listed = await json(`list-bucket-${kind}-configurations`, '--bucket', src);
      assert.deepEqual(listed, { IsTruncated: false, [`${member}List`]: [conf] }, kind);
      await fails(bad.code, `put-bucket-${kind}-configuration`, '--bucket', src, '--id', id, `--${kind}-configuration`, j(bad.conf));
      await fails('InvalidArgument', `list-bucket-${kind}-configurations`, '--bucket', src, '--continuation-token', 'not-a-token');
      await run(`delete-bucket-${kind}-configuration`, '--bucket', src, '--id', id);
      await fails('NoSuchConfiguration', `get-bucket-${kind}-configuration`, '--bucket', src, '--id', id);
      await fails('NoSuchConfiguration', `delete-bucket-${kind}-configuration`, '--bucket', src, '--id', id);
    };
    const logsArn = `arn:aws:s3:::${p}-logs`;

    await Promise.all([
      (async () => {
        await accelerate();
        await requestPayment();
        await notification();
        await logging();
      })(),
      replication(),
      (async () => {
        await config('metrics', 'MetricsConfiguration', { Id: 'm-1', Filter: { And: { Prefix: 'p/', Tags: [{ Key: 'k', Value: 'v' }] } } }, { code: 'MalformedXML', conf: { Id: 'm-1', Filter: { Prefix: 'a', Tag: { Key: 'k', Value: 'v' } } } });
        await config('analytics', 'AnalyticsConfiguration', { Id: 'a.1', Filter: { Tag: { Key: 'k', Value: 'v' } }, StorageClassAnalysis: { DataExport: { OutputSchemaVersion: 'V_1', Destination: { S3BucketDestination: { Format: 'CSV', Bucket: logsArn, Prefix: 'an/' } } } } }, { code: 'InvalidArgument', conf: { Id: 'a.1', StorageClassAnalysis: { DataExport: { OutputSchemaVersion: 'V_1', Destination: { S3BucketDestination: { Format: 'CSV', Bucket: `${p}-logs` } } } } } });
      })(),
      (async () => {
        const inv = { Id: 'i_1', IsEnabled: false, IncludedObjectVersions: 'All', Schedule: { Frequency: 'Daily' }, OptionalFields: ['Size', 'LastModifiedDate', 'ObjectLockMode'], Destination: { S3BucketDestination: { AccountId: '000000000000', Bucket: logsArn, Format: 'ORC', Encryption: { SSES3: {} } } } };
        await config('inventory', 'InventoryConfiguration', inv, { code: 'MalformedXML', conf: { ...inv, Schedule: { Frequency: 'Hourly' } } });
        const tiers = { Id: 't1', Status: 'Disabled', Tierings: [{ Days: 180, AccessTier: 'DEEP_ARCHIVE_ACCESS' }] };
        await config('intelligent-tiering', 'IntelligentTieringConfiguration', tiers, { code: 'InvalidArgument', conf: { ...tiers, Tierings: [{ Days: 731, AccessTier: 'ARCHIVE_ACCESS' }] } });
      })(),
    ]);
  };

  it('each setting put, read back equal, deleted; bad input refused with the S3 error code; replication round trip', async () => {
    await Promise.all(CLIS.map(({ name, bin }) => scenario(name, bin, name === 'c2' || !v2)));
  });

  it('the access logs are delivered once hanul’s clock has moved', async () => {
    rig.server.clock.advance(61_000);
    await Promise.all(
      CLIS.map(async ({ name, bin }) => {
        const { json, run } = client(bin);
        const { readFile } = await import('node:fs/promises');
        const line = new RegExp(` REST\\.PUT\\.OBJECT logged\\.txt "PUT /${name}-src/logged\\.txt HTTP/1\\.1" 200 `);
        // Records may be delivered over several log objects (one per flush): the PUT's line is in one of them.
        const read = new Set<string>();
        const found = await waitFor(
          async () => {
            const keys = ((await json('list-objects-v2', '--bucket', `${name}-logs`, '--prefix', 'logs/'))['Contents'] as Array<{ Key: string }> | undefined)?.map((o) => o.Key) ?? [];
            for (const key of keys.filter((k) => !read.has(k))) {
              read.add(key);
              const out = `${rig.dir}/${name}-${read.size}.log`;
              await run('get-object', '--bucket', `${name}-logs`, '--key', key, out);
              if (line.test(await readFile(out, 'utf8'))) return key;
            }
            return undefined;
          },
          { what: 'the access log line of the PUT', timeoutMs: 20_000 },
        );
        assert.ok(found);
      }),
    );
  });
});
