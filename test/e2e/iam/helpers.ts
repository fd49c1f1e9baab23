import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import assert from 'node:assert/strict';
import type { TestServer } from '../../support/hanul.js';

export type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export const doc = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** Creates a user with inline policies (and managed ARNs) and returns its access key. */
export async function userWith(server: TestServer, name: string, inline: string[] = [], managed: string[] = []): Promise<Creds> {
  const iam = new IAMClient(server.clientConfig);
  await iam.send(new CreateUserCommand({ UserName: name }));
  for (const [i, d] of inline.entries()) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: `p${i}`, PolicyDocument: d }));
  for (const arn of managed) await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: arn }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey;
  iam.destroy();
  assert.ok(key?.AccessKeyId && key.SecretAccessKey);
  return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
}

export { failure } from '../../support/hanul.js';
