import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as sdk from '@aws-sdk/client-s3';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import * as s3control from '@aws-sdk/client-s3-control';
import { ListTagsForResource$, ListTagsForResourceCommand, S3ControlClient, TagResource$, TagResourceCommand, UntagResource$, UntagResourceCommand } from '@aws-sdk/client-s3-control';
import { AwsError } from '../errors.js';
import type { OperationSpec } from '../service.js';
import { loopbackClientConfig, rawRequest, responseBytes, serveWith } from './sdk-loopback.js';
import type { DecodedRequest } from './codec.js';
import { HTTP_STATUS, restXmlCodec, type RestXmlService } from './rest-xml.js';
import { buildTemplateRoutes, isOperationSchema, matchTemplate, s3Target, virtualHostDomains, type StaticOperationSchema } from './rest-xml-routing.js';

const schemas: StaticOperationSchema[] = Object.values(sdk as Record<string, unknown>).filter(isOperationSchema);

function service(handlers: Record<string, (input: any) => unknown>): RestXmlService {
  const operations: Record<string, OperationSpec> = {};
  for (const [name, h] of Object.entries(handlers)) {
    operations[name] = { schema: (sdk as Record<string, unknown>)[`${name}$`], handler: async (input) => h(input) };
  }
  return { name: 's3', signingNames: ['s3'], protocol: 'rest-xml', operations, restXml: { schemas, domains: virtualHostDomains([]) } };
}

function client(svc: RestXmlService, seen: DecodedRequest[]) {
  return new S3Client({ ...loopbackClientConfig(serveWith(restXmlCodec, svc, (d) => seen.push(d))), forcePathStyle: true });
}

const echo = () => ({});

describe('rest-xml routing from the real SDK', () => {
  const svc = service({
    CreateBucket: echo,
    HeadBucket: () => ({ BucketRegion: 'us-east-1' }),
    PutObject: async (i: { Body: AsyncIterable<Uint8Array> }) => {
      const chunks: Buffer[] = [];
      for await (const c of i.Body) chunks.push(Buffer.from(c));
      return { ETag: '"abc"', VersionId: Buffer.concat(chunks).toString() };
    },
    UploadPart: () => ({ ETag: '"p1"' }),
    CopyObject: () => ({ CopyObjectResult: { ETag: '"c"', LastModified: new Date('2025-01-02T03:04:05.000Z') } }),
    CompleteMultipartUpload: () => ({ Bucket: 'b', Key: 'k', ETag: '"x-2"' }),
    DeleteObjects: () => ({ Deleted: [{ Key: 'a & b' }], Errors: [{ Key: 'c', Code: 'AccessDenied', Message: 'no' }] }),
    ListBuckets: () => ({ Buckets: [{ Name: 'b1', CreationDate: new Date('2025-01-01T00:00:00.000Z') }], Owner: { ID: 'o', DisplayName: 'd' } }),
    ListObjectsV2: () => ({
      Name: 'b',
      KeyCount: 2,
      IsTruncated: true,
      NextContinuationToken: 'tok',
      Contents: [{ Key: 'a<b>', Size: 3, ETag: '"e"', LastModified: new Date('2025-01-01T00:00:00.000Z'), StorageClass: 'STANDARD' }],
      CommonPrefixes: [{ Prefix: 'dir/' }],
    }),
    GetObject: () => ({ Body: Buffer.from('hello'), ContentLength: 5, ContentType: 'text/plain', Metadata: { color: 'red' }, ETag: '"e"', [HTTP_STATUS]: 206, ContentRange: 'bytes 0-4/10' }),
    HeadObject: () => {
      throw new AwsError('NoSuchKey', 404, 'The specified key does not exist.', { Key: 'k' });
    },
    GetBucketLocation: () => ({ LocationConstraint: 'eu-west-1' }),
    PutBucketVersioning: echo,
  });

  it('routes bucket operations and decodes labels', async () => {
    const seen: DecodedRequest[] = [];
    const c = client(svc, seen);
    await c.send(new CreateBucketCommand({ Bucket: 'my-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    const h = await c.send(new HeadBucketCommand({ Bucket: 'my-bucket' }));
    assert.equal(h.BucketRegion, 'us-east-1');
    await c.send(new PutBucketVersioningCommand({ Bucket: 'my-bucket', VersioningConfiguration: { Status: 'Enabled' } }));
    assert.deepEqual(
      seen.map((d) => d.operation),
      ['CreateBucket', 'HeadBucket', 'PutBucketVersioning'],
    );
    assert.deepEqual(seen[0]?.input, { Bucket: 'my-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } });
    assert.deepEqual((seen[2]?.input as { VersioningConfiguration: unknown }).VersioningConfiguration, { Status: 'Enabled' });
  });

  it('keys round-trip exactly (unicode, spaces, plus, percent, dot segments, slashes)', async () => {
    const seen: DecodedRequest[] = [];
    const c = client(svc, seen);
    const keys = ['a b+c%d', 'ünï/cødé ☃', '../x/./y', '//lead//double//', 'trail/', 'q?x=1&y#z', "it's (1) *!~"];
    for (const Key of keys) {
      const out = await c.send(new PutObjectCommand({ Bucket: 'b', Key, Body: 'data', Metadata: { 'My-Meta': 'v' }, ContentType: 'text/plain' }));
      assert.equal(out.VersionId, 'data');
    }
    assert.deepEqual(
      seen.map((d) => (d.input as { Key: string }).Key),
      keys,
    );
    const input = seen[0]?.input as Record<string, unknown>;
    assert.equal(seen[0]?.operation, 'PutObject');
    assert.deepEqual(input['Metadata'], { 'my-meta': 'v' });
    assert.equal(input['ContentType'], 'text/plain');
  });

  it('tells PutObject, UploadPart and CopyObject apart', async () => {
    const seen: DecodedRequest[] = [];
    const c = client(svc, seen);
    await c.send(new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u1', PartNumber: 3, Body: 'x' }));
    const copy = await c.send(new CopyObjectCommand({ Bucket: 'b', Key: 'k2', CopySource: 'b/k', MetadataDirective: 'REPLACE' }));
    assert.equal(copy.CopyObjectResult?.ETag, '"c"');
    assert.equal(copy.CopyObjectResult?.LastModified?.toISOString(), '2025-01-02T03:04:05.000Z');
    assert.equal(seen[0]?.operation, 'UploadPart');
    assert.equal((seen[0]?.input as { PartNumber: number }).PartNumber, 3);
    assert.equal(seen[1]?.operation, 'CopyObject');
    assert.equal((seen[1]?.input as { MetadataDirective: string }).MetadataDirective, 'REPLACE');
  });

  it('decodes XML payloads (CompleteMultipartUpload, DeleteObjects) and encodes XML outputs', async () => {
    const seen: DecodedRequest[] = [];
    const c = client(svc, seen);
    const done = await c.send(
      new CompleteMultipartUploadCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"a"' }, { PartNumber: 2, ETag: '"b"' }] } }),
    );
    assert.equal(done.ETag, '"x-2"');
    assert.deepEqual((seen[0]?.input as { MultipartUpload: unknown }).MultipartUpload, { Parts: [{ PartNumber: 1, ETag: '"a"' }, { PartNumber: 2, ETag: '"b"' }] });
    const del = await c.send(new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects: [{ Key: ' a & b ' }, { Key: 'x', VersionId: 'v' }], Quiet: true } }));
    assert.deepEqual((seen[1]?.input as { Delete: unknown }).Delete, { Objects: [{ Key: ' a & b ' }, { Key: 'x', VersionId: 'v' }], Quiet: true });
    assert.equal(del.Deleted?.[0]?.Key, 'a & b');
    assert.equal(del.Errors?.[0]?.Code, 'AccessDenied');
  });

  it('encodes lists, headers, status and streaming bodies the SDK parses', async () => {
    const c = client(svc, []);
    const lb = await c.send(new ListBucketsCommand({}));
    assert.equal(lb.Buckets?.[0]?.Name, 'b1');
    const l = await c.send(new ListObjectsV2Command({ Bucket: 'b', Prefix: 'p', Delimiter: '/', MaxKeys: 5 }));
    assert.equal(l.Contents?.[0]?.Key, 'a<b>');
    assert.equal(l.CommonPrefixes?.[0]?.Prefix, 'dir/');
    assert.equal(l.IsTruncated, true);
    assert.equal(l.NextContinuationToken, 'tok');
    const g = await c.send(new GetObjectCommand({ Bucket: 'b', Key: 'k', Range: 'bytes=0-4' }));
    assert.equal(await g.Body?.transformToString(), 'hello');
    assert.equal(g.ContentType, 'text/plain');
    assert.deepEqual(g.Metadata, { color: 'red' });
    assert.equal(g.ContentRange, 'bytes 0-4/10');
    const loc = await c.send(new GetBucketLocationCommand({ Bucket: 'b' }));
    assert.equal(loc.LocationConstraint, 'eu-west-1');
  });

  it('renders errors as S3 <Error> documents', async () => {
    const c = client(svc, []);
    await assert.rejects(c.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' })), (e: Error & { $metadata: { httpStatusCode: number } }) => {
      assert.equal(e.$metadata.httpStatusCode, 404);
      return true;
    });
    const res = restXmlCodec.encodeError(new AwsError('NoSuchKey', 404, 'The specified key does not exist.', { Key: 'a<b' }), svc, { requestId: 'R1', hostId: 'H1' });
    const body = (await responseBytes(res)).toString();
    assert.match(body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist.<\/Message><Key>a&lt;b<\/Key><RequestId>R1<\/RequestId><HostId>H1<\/HostId><\/Error>$/);
    assert.equal(res.headers['x-amz-request-id'], 'R1');
    assert.equal(res.headers['x-amz-id-2'], 'H1');
  });
});

describe('rest-xml raw requests', () => {
  const svc = service({ PutObject: echo, GetObject: echo, DeleteObjects: echo, ListObjects: echo });

  it('bad percent-encoding and invalid UTF-8 are InvalidURI', async () => {
    for (const path of ['/b/%zz', '/b/%E0%A4%A', '/b/%C0%AF', '/b/%ED%A0%80', '/b/a%00b']) {
      await assert.rejects(restXmlCodec.decode(rawRequest({ method: 'GET', path }), svc), (e: AwsError) => e.code === 'InvalidURI' && e.status === 400, path);
    }
  });

  it('refuses DTDs and entities, and malformed XML', async () => {
    const bad = [
      '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><Delete><Object><Key>&x;</Key></Object></Delete>',
      '<Delete><Object><Key>a</Key></Object>',
      '<Delete><Object><Key>&nbsp;</Key></Object></Delete>',
      '<Other/>',
    ];
    for (const body of bad) {
      await assert.rejects(restXmlCodec.decode(rawRequest({ method: 'POST', path: '/b', query: 'delete', body }), svc), (e: AwsError) => e.code === 'MalformedXML', body);
    }
    const ok = await restXmlCodec.decode(rawRequest({ method: 'POST', path: '/b', query: 'delete', body: '<Delete><Object><Key>&#65;&#x42;&amp;</Key></Object></Delete>' }), svc);
    assert.deepEqual((ok.input as { Delete: unknown }).Delete, { Objects: [{ Key: 'AB&' }] });
  });

  it('caps XML payloads', async () => {
    const body = `<Delete>${'<Object><Key>k</Key></Object>'.repeat(100_000)}</Delete>`;
    await assert.rejects(restXmlCodec.decode(rawRequest({ method: 'POST', path: '/b', query: 'delete', body }), svc), (e: AwsError) => e.code === 'MaxMessageLengthExceeded');
  });

  it('decodeNow answers a bodiless request at once, reads an XML body through a promise, throws at once for a bad route', async () => {
    const now = restXmlCodec.decodeNow?.(rawRequest({ method: 'GET', path: '/b/k' }), svc);
    assert.ok(now !== undefined && !(now instanceof Promise));
    assert.equal(now.operation, 'GetObject');
    assert.deepEqual(now.input, { Bucket: 'b', Key: 'k' });
    const later = restXmlCodec.decodeNow?.(rawRequest({ method: 'POST', path: '/b', query: 'delete', body: '<Delete><Object><Key>a</Key></Object></Delete>' }), svc);
    assert.ok(later instanceof Promise);
    assert.deepEqual(((await later).input as { Delete: unknown }).Delete, { Objects: [{ Key: 'a' }] });
    assert.throws(() => restXmlCodec.decodeNow?.(rawRequest({ method: 'PATCH', path: '/b/k' }), svc), (e: AwsError) => e.status === 405);
  });

  it('unknown method/resource combinations are MethodNotAllowed', async () => {
    await assert.rejects(restXmlCodec.decode(rawRequest({ method: 'PATCH', path: '/b/k' }), svc), (e: AwsError) => e.status === 405);
  });

  it('routes without the SDK x-id hint (CLI, boto3)', () => {
    const peek = (method: string, path: string, query = '', headers: Record<string, string> = {}) => restXmlCodec.peekOperation(rawRequest({ method, path, query, headers }), svc);
    assert.equal(peek('PUT', '/b/k'), 'PutObject');
    assert.equal(peek('PUT', '/b/k', 'partNumber=1&uploadId=x'), 'UploadPart');
    assert.equal(peek('PUT', '/b/k', 'partNumber=1&uploadId=x', { 'x-amz-copy-source': 'a/b' }), 'UploadPartCopy');
    assert.equal(peek('PUT', '/b/k', '', { 'x-amz-copy-source': 'a/b' }), 'CopyObject');
    assert.equal(peek('GET', '/'), 'ListBuckets');
    assert.equal(peek('GET', '/b'), 'ListObjects');
    assert.equal(peek('GET', '/b/'), 'ListObjects');
    assert.equal(peek('GET', '/b', 'list-type=2&prefix=x'), 'ListObjectsV2');
    assert.equal(peek('GET', '/b', 'versions'), 'ListObjectVersions');
    assert.equal(peek('GET', '/b', 'uploads'), 'ListMultipartUploads');
    assert.equal(peek('POST', '/b/k', 'uploads'), 'CreateMultipartUpload');
    assert.equal(peek('POST', '/b/k', 'uploadId=x'), 'CompleteMultipartUpload');
    assert.equal(peek('DELETE', '/b/k', 'uploadId=x'), 'AbortMultipartUpload');
    assert.equal(peek('GET', '/b/k', 'uploadId=x'), 'ListParts');
    assert.equal(peek('GET', '/b/k', 'tagging'), 'GetObjectTagging');
    assert.equal(peek('GET', '/b', 'tagging'), 'GetBucketTagging');
    assert.equal(peek('HEAD', '/b'), 'HeadBucket');
    assert.equal(peek('HEAD', '/b/k'), 'HeadObject');
    assert.equal(peek('GET', '/b/k', 'attributes'), 'GetObjectAttributes');
    assert.equal(peek('POST', '/b/k', 'restore'), 'RestoreObject');
    assert.equal(peek('GET', '/b', 'cors'), 'GetBucketCors');
  });
});

describe('rest-xml addressing', () => {
  const domains = virtualHostDomains(['example.test']);
  it('path-style and virtual-hosted-style', () => {
    assert.deepEqual(s3Target({ hostname: 'localhost', rawPath: '/b/a%20b/c' }, domains), { bucket: 'b', key: 'a b/c', virtualHosted: false });
    assert.deepEqual(s3Target({ hostname: 'my.bucket.localhost', rawPath: '/k+1' }, domains), { bucket: 'my.bucket', key: 'k+1', virtualHosted: true });
    assert.deepEqual(s3Target({ hostname: 'bkt.s3.localhost', rawPath: '/' }, domains), { bucket: 'bkt', key: undefined, virtualHosted: true });
    assert.deepEqual(s3Target({ hostname: 'bkt.example.test', rawPath: '//x' }, domains), { bucket: 'bkt', key: '/x', virtualHosted: true });
    assert.deepEqual(s3Target({ hostname: 's3.localhost', rawPath: '/bkt/k' }, domains), { bucket: 'bkt', key: 'k', virtualHosted: false });
    assert.deepEqual(s3Target({ hostname: '127.0.0.1', rawPath: '/' }, domains), { bucket: undefined, key: undefined, virtualHosted: false });
  });
});

describe('rest-xml labelled routes (S3 Control on the S3 endpoint)', () => {
  const control = [TagResource$, UntagResource$, ListTagsForResource$] as unknown as StaticOperationSchema[];
  it('template routes decode greedy labels and leave other paths alone', () => {
    const routes = buildTemplateRoutes(control);
    const m = matchTemplate(routes, 'POST', '/v20180820/tags/arn%3Aaws%3As3%3A%3A%3Amy-bucket');
    assert.equal(m?.entry.operation, 'TagResource');
    assert.equal(m?.labels.get('ResourceArn'), 'arn:aws:s3:::my-bucket');
    assert.equal(matchTemplate(routes, 'GET', '/v20180820/tags/arn:aws:s3:us-east-1:1:accesspoint/a/b')?.labels.get('ResourceArn'), 'arn:aws:s3:us-east-1:1:accesspoint/a/b');
    assert.equal(matchTemplate(routes, 'DELETE', '/v20180820/tags/x')?.entry.operation, 'UntagResource');
    assert.equal(matchTemplate(routes, 'PUT', '/v20180820/tags/x'), undefined);
    assert.equal(matchTemplate(routes, 'GET', '/v20180820/tags/'), undefined);
    assert.equal(matchTemplate(routes, 'GET', '/v20180820/tag/x'), undefined);
  });

  it('the stock S3 Control client round-trips through a service that claims its requests', async () => {
    const seen: DecodedRequest[] = [];
    const svc = service({});
    svc.operations = {
      TagResource: { schema: TagResource$, handler: () => ({}) },
      UntagResource: { schema: UntagResource$, handler: () => ({}) },
      ListTagsForResource: { schema: ListTagsForResource$, handler: () => ({ Tags: [{ Key: 'team', Value: 'a&b' }] }) },
    };
    const known = { api: 's3control', schemas: Object.values(s3control as Record<string, unknown>).filter(isOperationSchema) };
    svc.restXml = { schemas, domains: virtualHostDomains([]), labelled: { schemas: control, known, claims: (req) => req.rawPath.startsWith('/v20180820/') && req.headers['x-amz-account-id'] !== undefined } };
    const c = new S3ControlClient(loopbackClientConfig(serveWith(restXmlCodec, svc, (d) => seen.push(d))));
    await c.send(new TagResourceCommand({ AccountId: '111122223333', ResourceArn: 'arn:aws:s3:::b', Tags: [{ Key: 'k', Value: 'v<1>' }] }));
    await c.send(new UntagResourceCommand({ AccountId: '111122223333', ResourceArn: 'arn:aws:s3:::b', TagKeys: ['a,b', 'c'] }));
    const out = await c.send(new ListTagsForResourceCommand({ AccountId: '111122223333', ResourceArn: 'arn:aws:s3:::b' }));
    assert.deepEqual(out.Tags, [{ Key: 'team', Value: 'a&b' }]);
    assert.deepEqual(
      seen.map((d) => [d.operation, d.input]),
      [
        ['TagResource', { AccountId: '111122223333', ResourceArn: 'arn:aws:s3:::b', Tags: [{ Key: 'k', Value: 'v<1>' }] }],
        ['UntagResource', { AccountId: '111122223333', ResourceArn: 'arn:aws:s3:::b', TagKeys: ['a,b', 'c'] }],
        ['ListTagsForResource', { AccountId: '111122223333', ResourceArn: 'arn:aws:s3:::b' }],
      ],
    );
    c.destroy();
    // Another S3 Control call is not built; without the account header the path is an ordinary bucket and key.
    const other = rawRequest({ method: 'GET', path: '/v20180820/jobs', headers: { 'x-amz-account-id': '111122223333' } });
    assert.throws(() => restXmlCodec.decodeNow?.(other, svc), (e: AwsError) => e.code === 'NotImplemented' && e.status === 501 && /s3control operation ListJobs is not implemented/.test(e.message));
    const nowhere = rawRequest({ method: 'GET', path: '/v20180820/nowhere', headers: { 'x-amz-account-id': '111122223333' } });
    assert.throws(() => restXmlCodec.decodeNow?.(nowhere, svc), (e: AwsError) => e.code === 'NotImplemented' && e.status === 501);
    assert.equal(restXmlCodec.peekOperation(rawRequest({ method: 'GET', path: '/v20180820/tags/x' }), svc), 'GetObject');
  });
});
