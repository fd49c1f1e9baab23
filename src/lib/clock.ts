/**
 * The one clock everything time-based reads. `advance` exists so users (with
 * HANUL_TIME_TRAVEL=1) and tests can move time forward for expiry, rotation,
 * lifecycle and retention without waiting.
 */
export interface Clock {
  now(): Date;
  nowMs(): number;
  /** Milliseconds hanul's clock is ahead of the system clock. */
  offsetMs(): number;
  advance(ms: number): void;
}

export function systemClock(startOffsetMs = 0): Clock {
  let offset = startOffsetMs;
  return {
    nowMs: () => Date.now() + offset,
    now: () => new Date(Date.now() + offset),
    offsetMs: () => offset,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
      offset += ms;
    },
  };
}

/** A clock that stands still unless told to move: for unit tests. */
export function manualClock(startMs = Date.UTC(2025, 0, 1)): Clock {
  let t = startMs;
  return {
    nowMs: () => t,
    now: () => new Date(t),
    offsetMs: () => t - Date.now(),
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
      t += ms;
    },
  };
}
