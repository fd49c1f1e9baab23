import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { ConfigError, parseConfig } from '../../config.js';
import { compilePolicy, PolicyError } from '../../iam/policy/document.js';
import { rootPrincipal } from '../../iam/root-key.js';
import { systemClock } from '../../lib/clock.js';
import type { RequestContext, ServiceDeps } from '../../server/context.js';
import { openSqliteMetadataStore } from '../../storage/sqlite/metadata-store.js';
import type { Stores } from '../../storage/ports.js';
import { createIamService } from './index.js';

export const CREATE_USER_USAGE = `usage: hanul create-user <name> [--policy <file|json|arn>]… [--path /p/] [--data-dir D] [--account-id N]
  Creates an IAM user in the data dir, attaches each --policy (a managed policy ARN,
  or a policy document as JSON or a file holding it, put inline), creates an access
  key and prints it. Works whether or not the server is running (it reads the same
  SQLite metadata; a running server sees the user within seconds).
`;

interface Parsed {
  name: string;
  policies: string[];
  path?: string;
  rest: string[];
}

function parse(argv: readonly string[]): Parsed {
  const out: Parsed = { name: '', policies: [], rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new ConfigError(`${a} needs a value`);
      return v;
    };
    if (a === '--policy') out.policies.push(value());
    else if (a.startsWith('--policy=')) out.policies.push(a.slice(9));
    else if (a === '--path') out.path = value();
    else if (a.startsWith('--')) {
      out.rest.push(a);
      if (!a.includes('=') && argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith('--')) out.rest.push(argv[++i] as string);
    } else if (out.name === '') out.name = a;
    else throw new ConfigError(`unexpected argument ${a}`);
  }
  if (out.name === '') throw new ConfigError('create-user needs a user name');
  return out;
}

/** `hanul create-user`: bootstrap an IAM user without the AWS CLI. Returns the process exit code. */
export async function createUserCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, print: (s: string) => void): Promise<number> {
  let p: Parsed;
  let config;
  try {
    p = parse(argv);
    config = parseConfig(env, p.rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      print(`hanul: ${e.message}\n${CREATE_USER_USAGE}`);
      return 2;
    }
    throw e;
  }
  // The metadata store only: blob clean-up belongs to the server, which may be running.
  const metadata = await openSqliteMetadataStore(join(config.dataDir, 'metadata.sqlite'));
  try {
    const log = pino({ level: 'silent' });
    const deps: ServiceDeps = { config, clock: systemClock(), stores: { metadata } as unknown as Stores, log, audit: { record: () => undefined } };
    const iam = await createIamService(deps);
    const ctx: RequestContext = {
      ...deps,
      requestId: 'cli',
      principal: rootPrincipal(config.accountId),
      region: config.region,
      accountId: config.accountId,
      signal: new AbortController().signal,
      sourceIp: '127.0.0.1',
      secure: false,
      userAgent: 'hanul-cli',
      service: 'iam',
      operation: 'CreateUser',
    };
    const call = async (op: string, input: object): Promise<Record<string, any>> => (await iam.operations[op]?.handler(input, { ...ctx, operation: op })) as Record<string, any>;
    // Every document is read and checked before anything is created.
    const documents = p.policies.map((spec) => {
      if (spec.startsWith('arn:')) return { arn: spec };
      const text = spec.trimStart().startsWith('{') ? spec : existsSync(spec) ? readFileSync(spec, 'utf8') : undefined;
      if (text === undefined) throw new ConfigError(`--policy ${spec}: not a policy ARN, JSON document or file`);
      try {
        compilePolicy(text, 'identity');
      } catch (e) {
        if (e instanceof PolicyError) throw Object.assign(new Error(e.message), { code: 'MalformedPolicyDocument' });
        throw e;
      }
      return { text };
    });
    const user = await call('CreateUser', { UserName: p.name, ...(p.path ? { Path: p.path } : {}) });
    let n = 0;
    for (const d of documents) {
      if (d.arn !== undefined) await call('AttachUserPolicy', { UserName: p.name, PolicyArn: d.arn });
      else await call('PutUserPolicy', { UserName: p.name, PolicyName: `hanul-cli-${++n}`, PolicyDocument: d.text });
    }
    const key = await call('CreateAccessKey', { UserName: p.name });
    print(
      `${JSON.stringify({ UserName: p.name, Arn: user.User.Arn, AccessKeyId: key.AccessKey.AccessKeyId, SecretAccessKey: key.AccessKey.SecretAccessKey }, null, 2)}\n` +
        `export AWS_ACCESS_KEY_ID=${key.AccessKey.AccessKeyId} AWS_SECRET_ACCESS_KEY=${key.AccessKey.SecretAccessKey}\n`,
    );
    return 0;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    print(`hanul create-user: ${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}\n`);
    return 1;
  } finally {
    await metadata.close();
  }
}
