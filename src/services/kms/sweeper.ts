import type { Logger } from 'pino';
import { isDue } from './maintenance.js';
import { NS_KEY, type KeyRecord } from './model.js';
import type { Kms } from './runtime.js';

const SWEEP_MS = 1000;

/**
 * Applies what the (injectable) clock has made due — deletions, automatic
 * rotations, expiry of imported material — to keys nobody is using, once a
 * second. Keys in use are maintained on access (store.getKey).
 */
export function startSweeper(kms: Kms, log: Logger): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      try {
        const now = kms.clock.now();
        const due = (await kms.store.read((tx) => tx.scan<KeyRecord>(NS_KEY))).filter((e) => isDue(e.value, now));
        for (const e of due) await kms.store.maintain(e.value.region, e.value.keyId);
      } catch (e) {
        log.warn({ err: e }, 'kms sweeper failed');
      } finally {
        running = false;
      }
    })();
  }, SWEEP_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
