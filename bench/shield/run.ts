/**
 * Shield's proof under load (loopback only, bounded): each scenario with
 * protection on and, as the control, off. Run: `node .build/<dir>/bench/shield/run.js [seconds]`.
 * The legitimate client is 127.0.0.2; attackers use other 127.0.0.x addresses.
 */
import * as sh from '@aws-sdk/client-shield';
import { startHanul, type TestServer } from '../../test/support/hanul.js';
import { endpointArn } from '../../src/services/shield/resources.js';
import { flood, legit, p99, range, slowloris } from './load.js';

const SECONDS = Number(process.argv[2] ?? 10);

interface Row {
  scenario: string;
  shield: 'on' | 'off';
  legitOk: string;
  legitP99: string;
  attackerServed: string;
  detail: string;
}

async function server(on: boolean): Promise<TestServer> {
  const env: Record<string, string> = on
    ? { HANUL_SHIELD_HEADER_TIMEOUT_MS: '2000', HANUL_SHIELD_WATCH_WINDOW_MS: '3000', HANUL_SHIELD_BODY_MIN_RATE: '1000', HANUL_SHIELD_BLOCK_SECONDS: '60' }
    : { HANUL_SHIELD: 'off' };
  const h = await startHanul({ env });
  if (on) {
    const c = new sh.ShieldClient({ ...h.clientConfig });
    await c.send(new sh.CreateSubscriptionCommand({}));
    await c.send(new sh.CreateProtectionCommand({ Name: 'api', ResourceArn: endpointArn(h.region, '000000000000') }));
    await c.send(new sh.EnableApplicationLayerAutomaticResponseCommand({ ResourceArn: endpointArn(h.region, '000000000000'), Action: { Block: {} } }));
    c.destroy();
  }
  return h;
}

const pct = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);

async function scenario(name: string, on: boolean, attack: (h: TestServer, ms: number) => Promise<{ served: number; sent: number; detail: string }>): Promise<Row> {
  const h = await server(on);
  try {
    const ms = SECONDS * 1000;
    const t0 = Date.now();
    let firstBlockMs = -1;
    let firstAttackMs = -1;
    const watch = setInterval(() => {
      void (async () => {
        if (!on) return;
        const m = await fetch(`${h.endpoint}/metrics`).then((r) => r.text()).catch(() => '');
        if (firstBlockMs < 0 && /hanul_shield_active_blocks [1-9]/.test(m)) firstBlockMs = Date.now() - t0;
        if (firstAttackMs < 0 && /hanul_shield_attacks_total [1-9]/.test(m)) firstAttackMs = Date.now() - t0;
      })();
    }, 250);
    const [g, a] = await Promise.all([legit({ port: h.port, from: '127.0.0.2', rps: 20, durationMs: ms }), attack(h, ms)]);
    clearInterval(watch);
    return {
      scenario: name,
      shield: on ? 'on' : 'off',
      legitOk: pct(g.ok, g.sent),
      legitP99: `${p99(g.latenciesMs).toFixed(0)} ms`,
      attackerServed: pct(a.served, a.sent),
      detail: `${a.detail}${firstBlockMs >= 0 ? `; first block ${firstBlockMs} ms` : ''}${firstAttackMs >= 0 ? `; attack detected ${firstAttackMs} ms` : ''}`,
    };
  } finally {
    await h.stop();
  }
}

const scenarios: [string, (h: TestServer, ms: number) => Promise<{ served: number; sent: number; detail: string }>][] = [
  ['single-source flood (64 conns)', async (h, ms) => {
    const r = await flood({ port: h.port, sources: ['127.0.0.3'], connections: 64, durationMs: ms, timeoutMs: 500 });
    return { served: r.served, sent: r.sent, detail: `sent ${r.sent}, throttled ${r.throttled}, cut/held ${r.failed}` };
  }],
  ['distributed flood (40 sources)', async (h, ms) => {
    const r = await flood({ port: h.port, sources: range(10, 40), connections: 40, durationMs: ms, path: '/flood-target' });
    return { served: r.served, sent: r.sent, detail: `sent ${r.sent}, throttled ${r.throttled}, cut/held ${r.failed}` };
  }],
  ['slow headers (200 conns)', async (h, ms) => {
    const r = await slowloris({ port: h.port, sources: range(60, 10), connections: 200, durationMs: ms, everyMs: 500 });
    return { served: r.opened - r.cut, sent: r.opened, detail: `opened ${r.opened}, cut by server ${r.cut}` };
  }],
  ['slow body (100 conns)', async (h, ms) => {
    const r = await slowloris({ port: h.port, sources: range(80, 10), connections: 100, durationMs: ms, everyMs: 500, body: true });
    return { served: r.opened - r.cut, sent: r.opened, detail: `opened ${r.opened}, cut by server ${r.cut}` };
  }],
];

const rows: Row[] = [];
for (const [name, attack] of scenarios) {
  for (const on of [true, false]) {
    const row = await scenario(name, on, attack);
    rows.push(row);
    console.error(JSON.stringify(row));
  }
}
console.log('| scenario | shield | legit success | legit p99 | attacker served / connections kept | detail |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.scenario} | ${r.shield} | ${r.legitOk} | ${r.legitP99} | ${r.attackerServed} | ${r.detail} |`);
