/** Moves a running hanul's clock through the signed admin endpoint, as a user would (HANUL_TIME_TRAVEL=1). */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_KEY, TEST_REGION } from '../../support/hanul.js';

/**
 * Clients sign with their own clock: after a jump they must sign with hanul's
 * (else RequestTimeTooSkewed), so each given client's clock offset follows.
 */
export async function advanceClock(
  endpoint: string,
  seconds: number,
  clients: Array<{ config: { systemClockOffset?: number } }> = [],
  credentials = TEST_KEY,
  region = TEST_REGION,
): Promise<{ now: string; offsetSeconds: number }> {
  const u = new URL('/_hanul/clock', endpoint);
  const body = JSON.stringify({ advanceSeconds: seconds });
  const signer = new SignatureV4({ service: 'hanul', region, credentials, sha256: Sha256 });
  // Signed on hanul's clock, which may already be ahead of this host's.
  const { offsetSeconds } = (await (await fetch(u)).json()) as { offsetSeconds: number };
  const req = await signer.sign({ method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: u.pathname, headers: { host: u.host, 'content-type': 'application/json' }, body }, { signingDate: new Date(Date.now() + offsetSeconds * 1000) });
  const r = await fetch(u, { method: 'POST', headers: req.headers, body });
  if (r.status !== 200) throw new Error(`clock advance failed: ${r.status} ${await r.text()}`);
  const view = (await r.json()) as { now: string; offsetSeconds: number };
  for (const c of clients) c.config.systemClockOffset = view.offsetSeconds * 1000;
  return view;
}

export const DAY = 86_400;
