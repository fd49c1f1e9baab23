import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ARG_BYTES, checkJqQuery, evaluate, stopJq } from './jq.js';
import { extractPartitionKeys } from './partitioning.js';

after(() => stopJq());

describe('firehose jq (MetadataExtraction)', () => {
  it('compile-checks queries: a syntax error is InvalidArgumentException', async () => {
    await checkJqQuery('{customer: .customer_id | ascii_downcase, y: (.ts / 1000 | strftime("%Y"))}');
    await assert.rejects(checkJqQuery('{customer: .customer_id'), (e: Error & { code?: string; name?: string }) => {
      assert.match(e.message, /Invalid MetadataExtractionQuery/);
      assert.match(e.message, /syntax error|compile error/);
      return true;
    });
  });

  it('evaluates real jq per record, in batches, keeping each record its own result', async () => {
    const recs = Array.from({ length: 700 }, (_, i) => JSON.stringify({ id: i, c: `C${i % 5}`, pad: 'x'.repeat(600) }));
    const t0 = Date.now();
    const res = await evaluate('{c: .c | ascii_downcase, odd: (.id % 2 == 1)}', recs);
    assert.equal(res.length, recs.length);
    assert.ok(recs.join(',').length > 2 * ARG_BYTES, 'more than one jq run');
    for (const [i, r] of res.entries()) assert.deepEqual(r, { outputs: [{ c: `c${i % 5}`, odd: i % 2 === 1 }] });
    assert.ok(Date.now() - t0 < 60_000);
  });

  it('a runtime error fails only its record; non-JSON, non-object and multi-output records fail to partition', async () => {
    const data = ['{"a":"x"}', '{"a":{"b":1}}', 'not json', '{"a":["P","Q"]}', '{"a":5}'].map((s) => ({ data: Buffer.from(s), at: 1 }));
    const proc = { Type: 'MetadataExtraction' as const, Parameters: [{ ParameterName: 'MetadataExtractionQuery' as const, ParameterValue: '{k: (.a | if type == "array" then .[] else . end) | ascii_downcase}' }] };
    const { ok, failed } = await extractPartitionKeys(proc, data);
    assert.deepEqual(ok.map((r) => r.partitionKeys), [{ k: 'x' }]);
    assert.equal(failed.length, 4);
    assert.ok(failed.every((f) => f.errorType === 'partitioning-failed'));
    const messages = failed.map((f) => f.errorMessage);
    assert.match(messages[0] ?? '', /not valid JSON/);
    assert.equal(messages.filter((m) => /^jq: error: /.test(m)).length, 2);
    assert.ok(messages.some((m) => /produced 2 results/.test(m)));
  });
});
