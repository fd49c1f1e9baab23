/**
 * S3 Object Ownership and ACLs through the real SDK: ACLs disabled on new
 * buckets (BucketOwnerEnforced), enabled with ObjectWriter; canned ACLs,
 * x-amz-grant-* headers and AccessControlPolicy bodies; grants deciding
 * anonymous `fetch`es and signed callers; BlockPublicAcls / IgnorePublicAcls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketOwnershipControlsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
} from '@aws-sdk/client-s3';
import { failure, startHanul, type TestServer } from '../../support/hanul.js';
import { userWith, type Creds } from '../iam/helpers.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

describe('s3 access control: Object Ownership and ACLs', () => {
  let server: TestServer;
  let root: S3Client;
  let alice: Creds;
  const client = (credentials?: Creds) => new S3Client({ ...server.clientConfig, ...(credentials ? { credentials } : {}), forcePathStyle: true, maxAttempts: 1 });
  const anon = (path: string, init?: RequestInit) => fetch(`${server.endpoint}/${path}`, init);

  before(async () => {
    server = await startHanul();
    root = client();
    alice = await userWith(server, 'acl-alice');
  });
  after(async () => {
    root.destroy();
    await server.stop();
  });

  /** A bucket with ACLs enabled and Block Public Access off. */
  async function aclBucket(name: string): Promise<void> {
    await root.send(new CreateBucketCommand({ Bucket: name, ObjectOwnership: 'ObjectWriter' }));
    await root.send(new DeletePublicAccessBlockCommand({ Bucket: name }));
  }

  it('new buckets are BucketOwnerEnforced: ACLs read as the owner full control and cannot be set', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'acl-enforced' }));
    const oc = await root.send(new GetBucketOwnershipControlsCommand({ Bucket: 'acl-enforced' }));
    assert.deepEqual(oc.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    const acl = await root.send(new GetBucketAclCommand({ Bucket: 'acl-enforced' }));
    assert.equal(acl.Grants?.length, 1);
    assert.equal(acl.Grants?.[0]?.Permission, 'FULL_CONTROL');
    assert.equal(acl.Grants?.[0]?.Grantee?.Type, 'CanonicalUser');
    assert.equal(acl.Grants?.[0]?.Grantee?.ID, acl.Owner?.ID);
    assert.match(acl.Owner?.ID ?? '', /^[0-9a-f]{64}$/);

    for (const p of [
      root.send(new PutBucketAclCommand({ Bucket: 'acl-enforced', ACL: 'public-read' })),
      root.send(new PutObjectCommand({ Bucket: 'acl-enforced', Key: 'k', Body: 'x', ACL: 'public-read' })),
      root.send(new PutObjectCommand({ Bucket: 'acl-enforced', Key: 'k', Body: 'x', ACL: 'private' })),
      root.send(new PutObjectCommand({ Bucket: 'acl-enforced', Key: 'k', Body: 'x', GrantRead: `uri="${ALL_USERS}"` })),
    ]) {
      const e = await failure(p);
      assert.deepEqual([e.name, e.status, e.message], ['AccessControlListNotSupported', 400, 'The bucket does not allow ACLs']);
    }
    await root.send(new PutObjectCommand({ Bucket: 'acl-enforced', Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control' }));
    const oacl = await root.send(new GetObjectAclCommand({ Bucket: 'acl-enforced', Key: 'k' }));
    assert.deepEqual(oacl.Grants?.map((g) => g.Permission), ['FULL_CONTROL']);
    const e = await failure(root.send(new PutObjectAclCommand({ Bucket: 'acl-enforced', Key: 'k', ACL: 'public-read' })));
    assert.equal(e.name, 'AccessControlListNotSupported');
    const bad = await failure(root.send(new CreateBucketCommand({ Bucket: 'acl-enforced-2', ACL: 'public-read' })));
    assert.deepEqual([bad.name, bad.status], ['InvalidBucketAclWithObjectOwnership', 400]);
  });

  it('canned object ACLs decide anonymous reads; PutObjectAcl changes them', async () => {
    await aclBucket('acl-objects');
    await root.send(new PutObjectCommand({ Bucket: 'acl-objects', Key: 'public.txt', Body: 'pub', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: 'acl-objects', Key: 'private.txt', Body: 'priv' }));
    const ok = await anon('acl-objects/public.txt');
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'pub');
    assert.equal((await anon('acl-objects/private.txt')).status, 403);
    // READ on an object is not READ on the bucket: no anonymous listing.
    assert.equal((await anon('acl-objects?list-type=2')).status, 403);
    const acl = await root.send(new GetObjectAclCommand({ Bucket: 'acl-objects', Key: 'public.txt' }));
    const group = acl.Grants?.find((g) => g.Grantee?.Type === 'Group');
    assert.equal(group?.Grantee?.URI, ALL_USERS);
    assert.equal(group?.Permission, 'READ');
    await root.send(new PutObjectAclCommand({ Bucket: 'acl-objects', Key: 'public.txt', ACL: 'private' }));
    assert.equal((await anon('acl-objects/public.txt')).status, 403);
    await root.send(new PutObjectAclCommand({ Bucket: 'acl-objects', Key: 'private.txt', GrantRead: `uri="${ALL_USERS}"` }));
    assert.equal((await anon('acl-objects/private.txt')).status, 200);
    // authenticated-read: any signed caller, even one without identity policies; never anonymous.
    await root.send(new PutObjectCommand({ Bucket: 'acl-objects', Key: 'members.txt', Body: 'm', ACL: 'authenticated-read' }));
    assert.equal((await anon('acl-objects/members.txt')).status, 403);
    const a = client(alice);
    assert.equal(await (await a.send(new GetObjectCommand({ Bucket: 'acl-objects', Key: 'members.txt' }))).Body?.transformToString(), 'm');
    assert.equal((await failure(a.send(new GetObjectCommand({ Bucket: 'acl-objects', Key: 'public.txt' })))).name, 'AccessDenied');
    a.destroy();
  });

  it('ACLs from multipart uploads and copies; a bucket ACL body grants anonymous listing and writes', async () => {
    await aclBucket('acl-bucket');
    const up = await root.send(new CreateMultipartUploadCommand({ Bucket: 'acl-bucket', Key: 'mpu', ACL: 'public-read' }));
    const part = await root.send(new UploadPartCommand({ Bucket: 'acl-bucket', Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: 'multi' }));
    await root.send(new CompleteMultipartUploadCommand({ Bucket: 'acl-bucket', Key: 'mpu', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.equal(await (await anon('acl-bucket/mpu')).text(), 'multi');
    await root.send(new CopyObjectCommand({ Bucket: 'acl-bucket', Key: 'copy', CopySource: 'acl-bucket/mpu' }));
    assert.equal((await anon('acl-bucket/copy')).status, 403, 'a copy does not inherit the source ACL');

    const owner = (await root.send(new GetBucketAclCommand({ Bucket: 'acl-bucket' }))).Owner;
    await root.send(
      new PutBucketAclCommand({
        Bucket: 'acl-bucket',
        AccessControlPolicy: {
          Owner: owner,
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: owner?.ID }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' },
            { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'WRITE' },
          ],
        },
      }),
    );
    const grants = (await root.send(new GetBucketAclCommand({ Bucket: 'acl-bucket' }))).Grants ?? [];
    assert.deepEqual(grants.map((g) => `${g.Grantee?.Type}:${g.Permission}`), ['CanonicalUser:FULL_CONTROL', 'Group:READ', 'Group:WRITE']);
    const list = await anon('acl-bucket?list-type=2');
    assert.equal(list.status, 200);
    assert.match(await list.text(), /<Key>mpu<\/Key>/);
    assert.equal((await anon('acl-bucket/dropbox.txt', { method: 'PUT', body: 'dropped' })).status, 200);
    assert.equal(await (await root.send(new GetObjectCommand({ Bucket: 'acl-bucket', Key: 'dropbox.txt' }))).Body?.transformToString(), 'dropped');
    // Bucket READ does not read objects.
    assert.equal((await anon('acl-bucket/dropbox.txt')).status, 403);

    // Disabling ACLs while the bucket ACL grants others is refused.
    const e = await failure(root.send(new PutBucketOwnershipControlsCommand({ Bucket: 'acl-bucket', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })));
    assert.deepEqual([e.name, e.status], ['InvalidBucketAclWithObjectOwnership', 400]);
    await root.send(new PutBucketAclCommand({ Bucket: 'acl-bucket', ACL: 'private' }));
    await root.send(new PutBucketOwnershipControlsCommand({ Bucket: 'acl-bucket', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    // Enforced: the object ACLs stop counting.
    assert.equal((await anon('acl-bucket/mpu')).status, 403);
    await root.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'acl-bucket' }));
    const gone = await failure(root.send(new GetBucketOwnershipControlsCommand({ Bucket: 'acl-bucket' })));
    assert.deepEqual([gone.name, gone.status], ['OwnershipControlsNotFoundError', 404]);
    assert.equal((await anon('acl-bucket/mpu')).status, 200);
  });

  it('Block Public Access: BlockPublicAcls refuses public grants, IgnorePublicAcls disregards existing ones', async () => {
    await aclBucket('acl-pab');
    await root.send(new PutObjectCommand({ Bucket: 'acl-pab', Key: 'p', Body: 'p', ACL: 'public-read' }));
    assert.equal((await anon('acl-pab/p')).status, 200);
    await root.send(new PutPublicAccessBlockCommand({ Bucket: 'acl-pab', PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
    const e = await failure(root.send(new PutObjectCommand({ Bucket: 'acl-pab', Key: 'q', Body: 'q', ACL: 'public-read' })));
    assert.deepEqual([e.name, e.status], ['AccessDenied', 403]);
    assert.equal((await failure(root.send(new PutBucketAclCommand({ Bucket: 'acl-pab', ACL: 'public-read' })))).name, 'AccessDenied');
    await root.send(new PutObjectCommand({ Bucket: 'acl-pab', Key: 'q', Body: 'q', ACL: 'private' }));
    assert.equal((await anon('acl-pab/p')).status, 200, 'BlockPublicAcls leaves existing grants');
    await root.send(new PutPublicAccessBlockCommand({ Bucket: 'acl-pab', PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    assert.equal((await anon('acl-pab/p')).status, 403);
    const bad = await failure(root.send(new CreateBucketCommand({ Bucket: 'acl-pab-2', ObjectOwnership: 'ObjectWriter', ACL: 'public-read' })));
    assert.deepEqual([bad.name, bad.status], ['InvalidBucketAclWithBlockPublicAccessError', 400]);
  });

  it('bad ACL input', async () => {
    await aclBucket('acl-bad');
    await root.send(new PutObjectCommand({ Bucket: 'acl-bad', Key: 'k', Body: 'k' }));
    const both = await failure(root.send(new PutObjectAclCommand({ Bucket: 'acl-bad', Key: 'k', ACL: 'private', GrantRead: `uri="${ALL_USERS}"` })));
    assert.deepEqual([both.name, both.status], ['InvalidRequest', 400]);
    const group = await failure(root.send(new PutObjectAclCommand({ Bucket: 'acl-bad', Key: 'k', GrantRead: 'uri="http://example.com/nope"' })));
    assert.deepEqual([group.name, group.status], ['InvalidArgument', 400]);
    const email = await failure(root.send(new PutObjectAclCommand({ Bucket: 'acl-bad', Key: 'k', GrantRead: 'emailAddress="a@example.com"' })));
    assert.deepEqual([email.name, email.status], ['UnresolvableGrantByEmailAddress', 400]);
    const missing = await failure(root.send(new PutObjectAclCommand({ Bucket: 'acl-bad', Key: 'nope', ACL: 'private' })));
    assert.deepEqual([missing.name, missing.status], ['NoSuchKey', 404]);
    const oc = await failure(root.send(new PutBucketOwnershipControlsCommand({ Bucket: 'acl-bad', OwnershipControls: { Rules: [{ ObjectOwnership: 'Nobody' as 'ObjectWriter' }] } })));
    assert.deepEqual([oc.name, oc.status], ['MalformedXML', 400]);
  });
});
