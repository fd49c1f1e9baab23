import { parseConfig, ConfigError, type Config } from './config.js';
import { startApp, type App } from './server/app.js';
import { endpointArn } from './server/shield/endpoint.js';

/** The only place that reads the environment: env + flags → config → storage → server. */
export async function main(argv: readonly string[]): Promise<App> {
  let config: Config;
  try {
    config = parseConfig(process.env, argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hanul: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const app = await startApp(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`hanul: ${signal}, finishing in-flight requests…\n`);
    app.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`hanul: shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // Only now: whoever reads the banner may signal us at once.
  process.stdout.write(banner(app));
  return app;
}

export function banner(app: App): string {
  const { config, rootKey, endpoint } = app;
  const source = { configuration: 'from HANUL_ACCESS_KEY_ID / HANUL_SECRET_ACCESS_KEY', 'data-dir': `from ${config.dataDir}/root-credentials.json`, generated: `generated now, kept in ${config.dataDir}/root-credentials.json (0600)` }[rootKey.source];
  const lines = [
    '',
    `hanul ${endpoint}  (S3, KMS, Kinesis, Firehose, Shield, IAM, STS, CloudTrail on one port)`,
    `  region      ${config.region}`,
    `  account     ${config.accountId}`,
    `  data        ${config.dataDir}`,
    `  root key    ${rootKey.accessKeyId}  ${source}`,
  ];
  if (rootKey.source === 'generated') lines.push(`  secret      ${rootKey.secretAccessKey}  (shown once)`);
  lines.push(
    `  health      ${endpoint}/_hanul/health`,
    `  shield      ${config.shield ? 'on' : 'off'}  endpoint resource ${endpointArn(config.region, config.accountId)}`,
    ...(app.websiteListener ? [`  websites    ${endpoint.replace(/:\d+$/, `:${app.websiteListener.port}`)}  (Host <bucket>.…; also <bucket>.s3-website.localhost on the main port)`] : []),
    '',
    '  try:',
    `    AWS_ACCESS_KEY_ID=${rootKey.accessKeyId} AWS_SECRET_ACCESS_KEY=<secret> AWS_REGION=${config.region} aws --endpoint-url ${endpoint} s3 ls`,
    '',
  );
  return lines.join('\n') + '\n';
}
