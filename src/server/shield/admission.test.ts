import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission } from './admission.js';

const LIMITS = { clientRps: 20_000, pressureClientRps: 200, pressureDelayMs: 50, pressureInFlight: 48, blockAfterMs: 1000 };

/** Drives the quarter-second windows by hand. */
function setup() {
  const a = new Admission(LIMITS);
  const driver = a as unknown as { tick(): void; pressure: boolean };
  return { a, tick: () => driver.tick(), setPressure: (p: boolean) => (driver.pressure = p), close: () => a.close() };
}

describe('shield admission', () => {
  it('a lone client is never shed, however busy', () => {
    const { a, tick, close } = setup();
    try {
      for (let w = 0; w < 8; w++) {
        for (let i = 0; i < 500; i++) assert.equal(a.check('10.0.0.1').ok, true);
        tick();
      }
    } finally {
      close();
    }
  });

  it('a flood among other clients is shed within its first window, and blocked after a second of refusals', () => {
    const { a, tick, close } = setup();
    try {
      let served = 0;
      let blocked = -1;
      for (let w = 0; w < 6 && blocked < 0; w++) {
        assert.equal(a.check('10.0.0.2').ok, true, 'the other client is served');
        for (let i = 0; i < 300; i++) {
          const v = a.check('10.0.0.3');
          if (v.ok) served++;
          else if (v.block && blocked < 0) blocked = w;
        }
        tick();
      }
      // Twice the quarter's pressure rate (2 × 50) passes at most before shedding starts.
      assert.ok(served <= 101, `served ${served}`);
      assert.equal(blocked, 3, 'blocked in the fourth consecutive window of refusals');
    } finally {
      close();
    }
  });

  it('under pressure, a modest client whose requests arrive together after a stall of the server is not shed', () => {
    const { a, tick, setPressure, close } = setup();
    try {
      // 20 requests/s: 5 a quarter, beside a few other clients.
      for (let w = 0; w < 8; w++) {
        for (let i = 0; i < 5; i++) assert.equal(a.check('10.0.0.2').ok, true);
        for (let s = 0; s < 4; s++) a.check(`10.1.0.${s}`);
        tick();
      }
      // The server stalled for 2.4 s: the 48 requests sent meanwhile arrive in one quarter.
      for (let i = 0; i < 48; i++) assert.equal(a.check('10.0.0.2').ok, true, `burst ${i}`);
      tick();
      setPressure(true);
      for (let w = 0; w < 4; w++) {
        for (let i = 0; i < 5; i++) assert.equal(a.check('10.0.0.2').ok, true, `window ${w}`);
        for (let s = 0; s < 4; s++) a.check(`10.1.0.${s}`);
        tick();
        setPressure(true);
      }
    } finally {
      close();
    }
  });

  it("an SDK's burst of 50 among others passes; under pressure the legitimate client among 40 small sources is not shed", () => {
    const { a, tick, setPressure, close } = setup();
    try {
      a.check('10.0.0.9');
      for (let i = 0; i < 50; i++) assert.equal(a.check('10.0.0.8').ok, true);
      tick();
      setPressure(true);
      for (let w = 0; w < 4; w++) {
        for (let s = 0; s < 40; s++) for (let i = 0; i < 3; i++) a.check(`10.1.0.${s}`);
        for (let i = 0; i < 6; i++) assert.equal(a.check('10.0.0.2').ok, true, `window ${w}`);
        tick();
        setPressure(true);
      }
    } finally {
      close();
    }
  });
});
