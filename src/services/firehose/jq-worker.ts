/**
 * Real jq (jq 1.7 compiled to WebAssembly, npm `jq-wasm`) off the main
 * thread. jq-wasm feeds stdin one byte at a time with a copy per byte
 * (quadratic) and its runtime corrupts its heap after a few hundred runs, so
 * records go in as one `--argjson` array (argv, copied once; ≤ ARG_BYTES a
 * run) and the instance is replaced every RUNS_PER_INSTANCE runs, or after
 * a failure.
 */
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

interface JqModule {
  raw(input: string, filter: string, flags: string[]): Promise<string>;
}
type Factory = () => Promise<JqModule>;

const factory = createRequire(import.meta.url)('jq-wasm/dist/build/jq.js') as Factory;
const RUNS_PER_INSTANCE = 100;

let instance: Promise<JqModule> | undefined;
let runs = 0;

async function jq(): Promise<JqModule> {
  if (!instance || runs >= RUNS_PER_INSTANCE) {
    instance = factory();
    runs = 0;
  }
  runs++;
  return instance;
}

export interface JqRequest {
  id: number;
  /** The user's query; each record's outputs come back as one JSON array line. */
  filter: string;
  /** Record texts, each already known to be valid JSON; empty for a compile check. */
  records: string[];
}

export type JqResponse = { id: number; lines: string[] } | { id: number; error: string };

async function run(req: JqRequest): Promise<string[]> {
  if (req.records.length === 0) {
    // A compile check: jq reports syntax errors before reading any input; a runtime error on null is fine.
    try {
      await (await jq()).raw('null', req.filter, ['-c']);
    } catch (e) {
      if (/compile error/.test(e instanceof Error ? e.message : String(e))) throw e;
    }
    return [];
  }
  const filter = `$__r[] | [try (${req.filter}) catch {"__hanul_jq_error": .}]`;
  const arg = `[${req.records.join(',')}]`;
  for (let attempt = 0; ; attempt++) {
    try {
      const out = await (await jq()).raw('', filter, ['-n', '-c', '--argjson', '__r', arg]);
      const lines = out === '' ? [] : out.split('\n');
      if (lines.length !== req.records.length) throw new Error(`jq answered ${lines.length} results for ${req.records.length} records`);
      return lines;
    } catch (e) {
      instance = undefined;
      const msg = e instanceof Error ? e.message : String(e);
      // A jq error message is the user's; a WebAssembly fault is retried once on a fresh instance.
      if (/^jq: /.test(msg) || attempt >= 1) throw e;
    }
  }
}

parentPort?.on('message', (req: JqRequest) => {
  run(req).then(
    (lines) => parentPort?.postMessage({ id: req.id, lines } satisfies JqResponse),
    (e: unknown) => parentPort?.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) } satisfies JqResponse),
  );
});
