/**
 * One typed, frozen config object. Each setting has an env variable and a
 * flag; `parseConfig` is pure (main.ts hands it process.env and argv).
 */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  accountId: string;
  /** The root user's key; when unset, one is generated on first start and stored in the data dir. */
  rootAccessKeyId: string | undefined;
  rootSecretAccessKey: string | undefined;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Extra domain for virtual-hosted-style S3 (`<bucket>.<domain>`), besides localhost. */
  domain: string | undefined;
  /** Optional second port serving only S3's website endpoint (any `<bucket>.…` Host). */
  websitePort: number | undefined;
  timeTravel: boolean;
  logLevel: string;
  /** Graceful shutdown: how long in-flight requests may take. */
  shutdownGraceMs: number;
  /** Orphan blob sweep: minimum age and interval (s); 0 = off (src/storage/blob-sweep.ts). */
  orphanSweepSeconds: number;
  /** KMS root key (base64, 32 bytes) or a file holding it; else generated in the data dir. */
  kmsRootKey: string | undefined;
  /** PKCS#11 module behind KMS custom key stores (AWS_CLOUDHSM → a token labelled with the cluster id). */
  kmsPkcs11Module: string;
  kinesisLimits: boolean;
  /** How often the S3 lifecycle worker scans when nothing else wakes it (seconds). */
  s3LifecycleIntervalSeconds: number;
  /** How often S3 server access log records are delivered to their target buckets (seconds of hanul's clock). */
  s3AccessLogIntervalSeconds: number;
  /** Firehose DirectPut per-stream quotas (records/s, requests/s, MiB/s) enforced. */
  firehoseLimits: boolean;
  /** Encrypt new objects with SSE-S3 when neither the request nor the bucket asks for encryption (AWS's default since 2023). */
  s3DefaultEncryption: boolean;
  /** AES-GCM of S3 encrypted objects by the native addon (native/gcm) when it loads; off: node:crypto only. */
  nativeGcm: boolean;
  /** How long Kinesis streams and consumers stay CREATING / UPDATING / DELETING (ms). */
  kinesisStateDelayMs: number;
  /** Where Lambda handlers Firehose runs live (`<name>.mjs` / `.js`). */
  functionsDir: string;
  /** Shield Standard: connection gate, watchdogs, admission (src/server/shield/). */
  shield: boolean;
  shieldAllowlist: string;
  shieldTrustedProxies: string;
  shieldMaxConnections: number;
  shieldClientConnections: number;
  shieldConnectionRate: number;
  shieldClientRps: number;
  shieldPressureClientRps: number;
  shieldHeaderTimeoutMs: number;
  shieldBodyMinRate: number;
  shieldWatchWindowMs: number;
  shieldBlockSeconds: number;
  shieldH2MaxStreams: number;
  shieldAttackFloor: number;
  shieldH2ResetRate: number;
}

interface Setting {
  key: keyof Config;
  env: string;
  flag: string;
  doc: string;
  parse: (raw: string) => Config[keyof Config];
  default: Config[keyof Config];
}

function int(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
    return n;
  };
}
function bool(name: string) {
  return (raw: string): boolean => {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${name} must be 1/0, true/false, on/off; got '${raw}'`);
  };
}
const str = (raw: string): string => raw;

export class ConfigError extends Error {}

/** The settings table: README's configuration table mirrors it. */
export const SETTINGS: readonly Setting[] = [
  { key: 'host', env: 'HANUL_HOST', flag: '--host', doc: 'Address to listen on', parse: str, default: '127.0.0.1' },
  { key: 'port', env: 'HANUL_PORT', flag: '--port', doc: 'Port for every service (0 picks a free one)', parse: int('HANUL_PORT', 0, 65535), default: 4566 },
  { key: 'dataDir', env: 'HANUL_DATA_DIR', flag: '--data-dir', doc: 'Where data lives', parse: str, default: './data' },
  {
    key: 'region', env: 'HANUL_REGION', flag: '--region', doc: 'Default region', default: 'us-east-1',
    parse: (raw) => {
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(raw)) throw new ConfigError(`HANUL_REGION '${raw}' is not a region name`);
      return raw;
    },
  },
  {
    key: 'accountId', env: 'HANUL_ACCOUNT_ID', flag: '--account-id', doc: 'The account id', default: '000000000000',
    parse: (raw) => {
      if (!/^\d{12}$/.test(raw)) throw new ConfigError(`HANUL_ACCOUNT_ID must be 12 digits, got '${raw}'`);
      return raw;
    },
  },
  { key: 'rootAccessKeyId', env: 'HANUL_ACCESS_KEY_ID', flag: '--access-key-id', doc: "Root user's access key id", parse: str, default: undefined },
  { key: 'rootSecretAccessKey', env: 'HANUL_SECRET_ACCESS_KEY', flag: '--secret-access-key', doc: "Root user's secret key", parse: str, default: undefined },
  { key: 'tlsCert', env: 'HANUL_TLS_CERT', flag: '--tls-cert', doc: 'PEM certificate file: serve HTTPS (h2 + http/1.1 by ALPN)', parse: str, default: undefined },
  { key: 'tlsKey', env: 'HANUL_TLS_KEY', flag: '--tls-key', doc: 'PEM private key file for --tls-cert', parse: str, default: undefined },
  { key: 'domain', env: 'HANUL_DOMAIN', flag: '--domain', doc: 'Domain for virtual-hosted-style S3 (`<bucket>.<domain>`)', parse: str, default: undefined },
  { key: 'websitePort', env: 'HANUL_WEBSITE_PORT', flag: '--website-port', doc: 'Extra port serving only S3 static websites (Host `<bucket>.…`; 0 picks a free one)', parse: int('HANUL_WEBSITE_PORT', 0, 65535), default: undefined },
  { key: 'timeTravel', env: 'HANUL_TIME_TRAVEL', flag: '--time-travel', doc: 'Allow `POST /_hanul/clock` to move the clock forward', parse: bool('HANUL_TIME_TRAVEL'), default: false },
  { key: 'logLevel', env: 'HANUL_LOG_LEVEL', flag: '--log-level', doc: 'pino level: fatal, error, warn, info, debug, silent', parse: str, default: 'info' },
  { key: 'shutdownGraceMs', env: 'HANUL_SHUTDOWN_GRACE_MS', flag: '--shutdown-grace-ms', doc: 'How long shutdown waits for in-flight requests', parse: int('HANUL_SHUTDOWN_GRACE_MS', 0, 600_000), default: 10_000 },
  { key: 'orphanSweepSeconds', env: 'HANUL_ORPHAN_SWEEP_SECONDS', flag: '--orphan-sweep-seconds', doc: 'Delete blobs no record refers to (a crash\'s leftovers) once older than this, at start and then this often; 0 = never', parse: int('HANUL_ORPHAN_SWEEP_SECONDS', 0, 31_536_000), default: 3600 },
  { key: 'kmsRootKey', env: 'HANUL_KMS_ROOT_KEY', flag: '--kms-root-key', doc: 'KMS root key: base64 of 32 bytes, or a file path; else generated in the data dir', parse: str, default: undefined },
  { key: 'kmsPkcs11Module', env: 'HANUL_KMS_PKCS11_MODULE', flag: '--kms-pkcs11-module', doc: 'PKCS#11 module for KMS custom key stores (a CloudHSM cluster id names a token label)', parse: str, default: '/usr/lib/softhsm/libsofthsm2.so' },
  { key: 's3LifecycleIntervalSeconds', env: 'HANUL_S3_LIFECYCLE_INTERVAL_SECONDS', flag: '--s3-lifecycle-interval-seconds', doc: 'S3 lifecycle scan interval (also runs on rule changes and clock jumps)', parse: int('HANUL_S3_LIFECYCLE_INTERVAL_SECONDS', 1, 86_400), default: 300 },
  { key: 's3AccessLogIntervalSeconds', env: 'HANUL_S3_ACCESS_LOG_INTERVAL_SECONDS', flag: '--s3-access-log-interval-seconds', doc: 'S3 server access logs: delivery interval (also at shutdown)', parse: int('HANUL_S3_ACCESS_LOG_INTERVAL_SECONDS', 1, 86_400), default: 60 },
  { key: 'kinesisLimits', env: 'HANUL_KINESIS_LIMITS', flag: '--kinesis-limits', doc: 'Enforce Kinesis per-shard throughput limits (on/off)', parse: bool('HANUL_KINESIS_LIMITS'), default: true },
  { key: 'firehoseLimits', env: 'HANUL_FIREHOSE_LIMITS', flag: '--firehose-limits', doc: 'Enforce Firehose DirectPut per-stream quotas: records/s, requests/s, MiB/s (on/off)', parse: bool('HANUL_FIREHOSE_LIMITS'), default: true },
  { key: 's3DefaultEncryption', env: 'HANUL_S3_DEFAULT_ENCRYPTION', flag: '--s3-default-encryption', doc: 'Encrypt new S3 objects with SSE-S3 unless the request or bucket says otherwise (on/off)', parse: bool('HANUL_S3_DEFAULT_ENCRYPTION'), default: true },
  { key: 'nativeGcm', env: 'HANUL_NATIVE_GCM', flag: '--native-gcm', doc: 'AES-GCM of encrypted S3 objects by the native addon when it was built (on/off; off: node:crypto)', parse: bool('HANUL_NATIVE_GCM'), default: true },
  { key: 'shield', env: 'HANUL_SHIELD', flag: '--shield', doc: 'Flood protection of every endpoint (on/off)', parse: bool('HANUL_SHIELD'), default: true },
  { key: 'shieldAllowlist', env: 'HANUL_SHIELD_ALLOWLIST', flag: '--shield-allowlist', doc: 'CIDRs never limited (comma-separated)', parse: str, default: '' },
  { key: 'shieldTrustedProxies', env: 'HANUL_SHIELD_TRUSTED_PROXIES', flag: '--shield-trusted-proxies', doc: 'CIDRs whose X-Forwarded-For is believed', parse: str, default: '' },
  { key: 'shieldMaxConnections', env: 'HANUL_SHIELD_MAX_CONNECTIONS', flag: '--shield-max-connections', doc: 'Open connections in all', parse: int('HANUL_SHIELD_MAX_CONNECTIONS', 1, 1_000_000), default: 10_000 },
  { key: 'shieldClientConnections', env: 'HANUL_SHIELD_CLIENT_CONNECTIONS', flag: '--shield-client-connections', doc: 'Open connections per client (IPv4 / IPv6 /64)', parse: int('HANUL_SHIELD_CLIENT_CONNECTIONS', 1, 1_000_000), default: 512 },
  { key: 'shieldConnectionRate', env: 'HANUL_SHIELD_CONNECTION_RATE', flag: '--shield-connection-rate', doc: 'New connections per second per client', parse: int('HANUL_SHIELD_CONNECTION_RATE', 1, 1_000_000), default: 5000 },
  { key: 'shieldClientRps', env: 'HANUL_SHIELD_CLIENT_RPS', flag: '--shield-client-rps', doc: 'Requests per second per client, always', parse: int('HANUL_SHIELD_CLIENT_RPS', 1, 10_000_000), default: 20_000 },
  { key: 'shieldPressureClientRps', env: 'HANUL_SHIELD_PRESSURE_CLIENT_RPS', flag: '--shield-pressure-client-rps', doc: 'Requests per second per client while the server is under pressure and shared', parse: int('HANUL_SHIELD_PRESSURE_CLIENT_RPS', 1, 10_000_000), default: 200 },
  { key: 'shieldHeaderTimeoutMs', env: 'HANUL_SHIELD_HEADER_TIMEOUT_MS', flag: '--shield-header-timeout-ms', doc: 'Time to send a request head', parse: int('HANUL_SHIELD_HEADER_TIMEOUT_MS', 100, 600_000), default: 15_000 },
  { key: 'shieldBodyMinRate', env: 'HANUL_SHIELD_BODY_MIN_RATE', flag: '--shield-body-min-rate', doc: 'Slowest request body / response read (bytes/s over the watch window)', parse: int('HANUL_SHIELD_BODY_MIN_RATE', 0, 1_000_000_000), default: 512 },
  { key: 'shieldWatchWindowMs', env: 'HANUL_SHIELD_WATCH_WINDOW_MS', flag: '--shield-watch-window-ms', doc: 'Window of the slow-body and slow-read guards', parse: int('HANUL_SHIELD_WATCH_WINDOW_MS', 500, 3_600_000), default: 30_000 },
  { key: 'shieldH2MaxStreams', env: 'HANUL_SHIELD_H2_MAX_STREAMS', flag: '--shield-h2-max-streams', doc: 'HTTP/2 concurrent streams per connection', parse: int('HANUL_SHIELD_H2_MAX_STREAMS', 1, 65_535), default: 256 },
  { key: 'shieldH2ResetRate', env: 'HANUL_SHIELD_H2_RESET_RATE', flag: '--shield-h2-reset-rate', doc: 'HTTP/2 streams a client may cancel per second on one connection (rapid reset, CVE-2023-44487); more → GOAWAY', parse: int('HANUL_SHIELD_H2_RESET_RATE', 1, 1_000_000), default: 100 },
  { key: 'shieldAttackFloor', env: 'HANUL_SHIELD_ATTACK_FLOOR', flag: '--shield-attack-floor', doc: 'Requests per second to a protected resource below which Shield Advanced detects no flood', parse: int('HANUL_SHIELD_ATTACK_FLOOR', 1, 10_000_000), default: 100 },
  { key: 'shieldBlockSeconds', env: 'HANUL_SHIELD_BLOCK_SECONDS', flag: '--shield-block-seconds', doc: 'How long a flooding client stays blocked', parse: int('HANUL_SHIELD_BLOCK_SECONDS', 1, 86_400), default: 60 },
  { key: 'kinesisStateDelayMs', env: 'HANUL_KINESIS_STATE_DELAY_MS', flag: '--kinesis-state-delay-ms', doc: 'How long Kinesis streams stay CREATING/UPDATING/DELETING (ms)', parse: int('HANUL_KINESIS_STATE_DELAY_MS', 0, 600_000), default: 500 },
  { key: 'functionsDir', env: 'HANUL_FUNCTIONS_DIR', flag: '--functions-dir', doc: 'Directory of Lambda handlers (`<name>.mjs`/`.js`) run by Firehose transforms', parse: str, default: './functions' },
];

/** Flags win over env; env over defaults. Throws ConfigError on bad values or unknown flags. */
export function parseConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = []): Readonly<Config> {
  const out: Record<string, unknown> = {};
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const setting = SETTINGS.find((s) => s.flag === name);
    if (!setting) throw new ConfigError(`unknown option ${a}`);
    let value: string | undefined = eq > 0 ? a.slice(eq + 1) : argv[i + 1];
    if (eq < 0) {
      if (typeof setting.default === 'boolean' && (value === undefined || value.startsWith('--'))) value = '1';
      else i++;
    }
    if (value === undefined) throw new ConfigError(`${name} needs a value`);
    flags.set(setting.flag, value);
  }
  for (const s of SETTINGS) {
    const raw = flags.get(s.flag) ?? env[s.env];
    out[s.key] = raw === undefined || raw === '' ? s.default : s.parse(raw);
  }
  const cfg = out as unknown as Config;
  if ((cfg.rootAccessKeyId === undefined) !== (cfg.rootSecretAccessKey === undefined)) {
    throw new ConfigError('set both HANUL_ACCESS_KEY_ID and HANUL_SECRET_ACCESS_KEY, or neither');
  }
  if ((cfg.tlsCert === undefined) !== (cfg.tlsKey === undefined)) {
    throw new ConfigError('set both HANUL_TLS_CERT and HANUL_TLS_KEY, or neither');
  }
  return Object.freeze(cfg);
}
