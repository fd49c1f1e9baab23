/**
 * S3 object keys as Firehose writes them: `<evaluated prefix><stream>-<version>-
 * YYYY-MM-DD-HH-MM-SS-<uuid><extension>`. Prefix expressions (`!{timestamp:…}`,
 * `!{firehose:random-string}`, `!{firehose:error-output-type}`,
 * `!{partitionKeyFromQuery:…}`, `!{partitionKeyFromLambda:…}`) are checked
 * at create/update time as AWS checks them, and evaluated per object with the
 * arrival time of the object's oldest record.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { firehoseError } from './errors.js';
import { pad } from './model.js';

const EXPR = /!\{([^{}:]*):([^{}]*)\}/g;
const DEFAULT_TIME = 'yyyy/MM/dd/HH/';

export interface PrefixRules {
  dynamicPartitioning: boolean;
}

function bad(msg: string): never {
  throw firehoseError('InvalidArgumentException', msg);
}

/** Validates Prefix and ErrorOutputPrefix together, as CreateDeliveryStream/UpdateDestination do. */
export function checkPrefixes(prefix: string | undefined, errorPrefix: string | undefined, rules: PrefixRules): void {
  for (const [which, p] of [['Prefix', prefix], ['ErrorOutputPrefix', errorPrefix]] as const) {
    if (p === undefined) continue;
    if (p.length > 1024) bad(`${which} must be at most 1024 characters.`);
    if (p.startsWith('/')) bad(`${which} cannot begin with '/'.`);
    if (/!\{/.test(p.replace(EXPR, ''))) bad(`${which} contains an invalid expression: expressions have the form !{namespace:value}.`);
    let timestamps = 0;
    for (const m of p.matchAll(EXPR)) {
      const [whole, ns, value] = m as unknown as [string, string, string];
      if (ns === 'timestamp') {
        timestamps++;
        checkTimeFormat(value, which);
      } else if (ns === 'firehose') {
        if (value === 'error-output-type') {
          if (which === 'Prefix') bad(`The expression ${whole} is not allowed in Prefix; use it in ErrorOutputPrefix.`);
        } else if (value !== 'random-string') bad(`The expression ${whole} is not supported: firehose namespace values are random-string and error-output-type.`);
      } else if (ns === 'partitionKeyFromQuery' || ns === 'partitionKeyFromLambda') {
        if (which === 'ErrorOutputPrefix') bad(`The expression ${whole} is not allowed in ErrorOutputPrefix.`);
        if (!rules.dynamicPartitioning) bad(`The expression ${whole} requires dynamic partitioning to be enabled.`);
        if (!/^[A-Za-z0-9_-]{1,512}$/.test(value)) bad(`The partition key name in ${whole} is not valid.`);
      } else bad(`The expression ${whole} is not supported: namespaces are timestamp, firehose, partitionKeyFromQuery and partitionKeyFromLambda.`);
    }
    void timestamps;
  }
  const hasExpr = (p: string | undefined) => p !== undefined && /!\{/.test(p);
  if (hasExpr(prefix) && (errorPrefix === undefined || errorPrefix === '')) {
    bad('ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.');
  }
  if (rules.dynamicPartitioning && !/!\{partitionKeyFrom(Query|Lambda):/.test(prefix ?? '')) {
    bad('Prefix must contain at least one partitionKeyFromQuery or partitionKeyFromLambda expression when dynamic partitioning is enabled.');
  }
}

const TIME_TOKENS = /('[^']*'|yyyy|YYYY|yy|MM|dd|HH|mm|ss|SSS|[A-Za-z])/g;

function checkTimeFormat(fmt: string, which: string): void {
  if (fmt === '') bad(`${which} contains an empty timestamp expression.`);
  for (const m of fmt.matchAll(TIME_TOKENS)) {
    const t = m[0];
    if (t.startsWith("'") || /^(yyyy|YYYY|yy|MM|dd|HH|mm|ss|SSS)$/.test(t)) continue;
    bad(`The timestamp format '${fmt}' in ${which} is not a supported DateTimeFormatter pattern (letter '${t}').`);
  }
}

/** A subset of Java's DateTimeFormatter: the letters prefixes use; 'quoted' text verbatim. UTC. */
export function formatTime(fmt: string, ms: number): string {
  const d = new Date(ms);
  return fmt.replace(TIME_TOKENS, (t) => {
    switch (t) {
      case 'yyyy':
      case 'YYYY':
        return String(d.getUTCFullYear());
      case 'yy':
        return pad(d.getUTCFullYear() % 100);
      case 'MM':
        return pad(d.getUTCMonth() + 1);
      case 'dd':
        return pad(d.getUTCDate());
      case 'HH':
        return pad(d.getUTCHours());
      case 'mm':
        return pad(d.getUTCMinutes());
      case 'ss':
        return pad(d.getUTCSeconds());
      case 'SSS':
        return pad(d.getUTCMilliseconds(), 3);
      default:
        return t.startsWith("'") ? t.slice(1, -1).replace(/''/g, "'") : t;
    }
  });
}

/** Firehose's random-string: 11 characters of base-36-ish letters and digits. */
function randomString(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(11), (b) => alphabet[b % alphabet.length]).join('');
}

export interface EvalInput {
  at: number;
  errorType?: string;
  partitionKeys?: Record<string, string>;
}

function evaluate(p: string, inp: EvalInput): string {
  return p.replace(EXPR, (_w, ns: string, value: string) => {
    if (ns === 'timestamp') return formatTime(value, inp.at);
    if (ns === 'firehose') return value === 'random-string' ? randomString() : (inp.errorType ?? '');
    return inp.partitionKeys?.[value] ?? '';
  });
}

/** The evaluated prefix for delivered data. A prefix without expressions gets the default time folders appended. */
export function dataPrefix(prefix: string | undefined, inp: EvalInput): string {
  if (prefix === undefined || prefix === '') return formatTime(DEFAULT_TIME, inp.at);
  if (!/!\{/.test(prefix)) return prefix + formatTime(DEFAULT_TIME, inp.at);
  return evaluate(prefix, inp);
}

/** The evaluated prefix for failed records (`processing-failed`, `format-conversion-failed`, …). */
export function errorPrefix(prefix: string | undefined, errorPrefixConf: string | undefined, inp: EvalInput & { errorType: string }): string {
  if (errorPrefixConf === undefined || errorPrefixConf === '') return `${prefix && !/!\{/.test(prefix) ? prefix : ''}${inp.errorType}/${formatTime(DEFAULT_TIME, inp.at)}`;
  if (!/!\{/.test(errorPrefixConf)) return `${errorPrefixConf}${inp.errorType}/${formatTime(DEFAULT_TIME, inp.at)}`;
  return evaluate(errorPrefixConf, inp);
}

export const EXTENSIONS: Record<string, string> = {
  UNCOMPRESSED: '',
  GZIP: '.gz',
  ZIP: '.zip',
  Snappy: '.snappy',
  HADOOP_SNAPPY: '.hsnappy',
};

/** `<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>` (time of the oldest record). */
export function objectName(stream: string, version: number, at: number, ext: string, override?: string): string {
  return `${stream}-${version}-${formatTime("yyyy-MM-dd-HH-mm-ss", at)}-${randomUUID()}${override ?? ext}`;
}
