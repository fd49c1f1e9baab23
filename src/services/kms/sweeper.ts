import type { Logger } from 'pino';
import { isDue } from './maintenance.js';
import { NS_KEY, type KeyRecord } from './model.js';
import type { Kms } from './runtime.js';

const TICK_MS = 1000;
/** Full scans for due keys every this many ticks (keys in use are maintained on access anyway). */
const SCAN_EVERY = 10;

/**
 * Applies what the (injectable) clock has made due — deletions, automatic
 * rotations, expiry of imported material — to keys nobody is using, every
 * ten seconds. Keys in use are maintained on access (store.getKey).
 */
export function startSweeper(kms: Kms, log: Logger, alsoEachTick?: () => Promise<void>): { stop(): void } {
  let running = false;
  let tick = 0;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      try {
        if (tick++ % SCAN_EVERY === 0) {
          const now = kms.clock.now();
          const due = (await kms.store.read((tx) => tx.scan<KeyRecord>(NS_KEY))).filter((e) => isDue(e.value, now));
          for (const e of due) await kms.store.maintain(e.value.region, e.value.keyId);
        }
        await alsoEachTick?.();
      } catch (e) {
        log.warn({ err: e }, 'kms sweeper failed');
      } finally {
        running = false;
      }
    })();
  }, TICK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
