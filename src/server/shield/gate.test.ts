import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { describe, it } from 'node:test';
import { parseCidrs } from './addr.js';
import { createShieldCounters } from './counters.js';
import { ConnectionGate } from './gate.js';

const LIMITS = { maxConnections: 10_000, clientConnections: 5000, connectionRate: 100_000, headerTimeoutMs: 1000, bodyMinRate: 100, watchWindowMs: 1000, holdMs: 1000, maxHeld: 10 };

/** Just what the gate reads of a socket. */
class FakeSocket extends EventEmitter {
  bytesRead = 0;
  bytesWritten = 0;
  writableLength = 0;
  destroyed = false;
  constructor(readonly remoteAddress: string) {
    super();
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
  pause(): this {
    return this;
  }
}

const turn = () => new Promise((r) => setImmediate(r));

function setup() {
  let t = 0;
  const counters = createShieldCounters(undefined, () => 0, () => 0);
  const gate = new ConnectionGate(LIMITS, parseCidrs(''), counters, () => t);
  const scan = () => (gate as unknown as { scan(): void }).scan();
  return { gate, counters, scan, advance: (ms: number) => (t += ms) };
}

describe('shield connection gate', () => {
  it('a burst of new connections starts a batch per turn, round-robin over clients', async () => {
    const { gate } = setup();
    try {
      const started: string[] = [];
      const open = (addr: string) => {
        const s = new FakeSocket(addr) as unknown as net.Socket;
        assert.equal(gate.accept(s), true);
        gate.start(s, () => started.push(addr));
      };
      for (let i = 0; i < 200; i++) open('10.0.0.1');
      open('10.0.0.2');
      assert.ok(started.length < 200, `started ${started.length} in one turn`);
      assert.ok(!started.includes('10.0.0.2'));
      // The turn right after the accepts only accepts (see the accept-queue test below).
      await turn();
      await turn();
      // The lone connection of the second client is among the next turn's first starts.
      assert.ok(started.indexOf('10.0.0.2') >= 0 && started.indexOf('10.0.0.2') <= started.lastIndexOf('10.0.0.1') + 2, `order ${started.join(',')}`);
      for (let i = 0; i < 400 && started.length < 201; i++) await turn();
      assert.equal(started.length, 201);
    } finally {
      gate.close();
    }
  });

  it('a new connection starts before a backlog of cut connections is torn down, and the backlog still shrinks every turn', async () => {
    const { gate, scan, advance } = setup();
    try {
      // 300 silent connections pass their head deadline together: all cut, to be torn down in turns.
      const silent = Array.from({ length: 300 }, () => new FakeSocket('10.0.0.5'));
      for (const s of silent) assert.equal(gate.accept(s as unknown as net.Socket), true);
      await turn();
      scan();
      for (let i = 0; i < 6; i++) {
        advance(250);
        scan();
      }
      assert.equal(silent.filter((s) => s.destroyed).length, 0, 'torn down in turns, not in the scan');
      await turn();
      const afterOne = silent.filter((s) => !s.destroyed).length;
      assert.ok(afterOne > 0 && afterOne < 300, `one turn tears down a batch (${300 - afterOne})`);
      const fresh = new FakeSocket('10.0.0.6') as unknown as net.Socket;
      assert.equal(gate.accept(fresh), true);
      // Its first bytes are read at the earliest an event-loop iteration after the accept.
      await turn();
      let started = false;
      gate.start(fresh, () => (started = true));
      await turn();
      assert.equal(started, true, 'the new connection did not wait for the teardowns');
      assert.ok(silent.filter((s) => !s.destroyed).length < afterOne, 'teardown got its share of the turn');
      for (let i = 0; i < 400 && silent.some((s) => !s.destroyed); i++) await turn();
      assert.equal(silent.filter((s) => !s.destroyed).length, 0);
    } finally {
      gate.close();
    }
  });

  it('while turn after turn accepts a connection (the accept queue is backed up), turns only accept, and start again when one accepts none or 50 ms have passed', async () => {
    const { gate, advance } = setup();
    try {
      let started = 0;
      for (let i = 0; i < 2000; i++) {
        const s = new FakeSocket('10.0.0.7') as unknown as net.Socket;
        assert.equal(gate.accept(s), true);
        gate.start(s, () => started++);
      }
      // One accept per event-loop iteration, as libuv does: after a few such iterations in a row, no starts.
      for (let i = 0; i < 4; i++) {
        assert.equal(gate.accept(new FakeSocket('10.0.0.8') as unknown as net.Socket), true);
        await turn();
        advance(1);
      }
      const before = started;
      assert.ok(before < 2000);
      for (let i = 0; i < 5; i++) {
        assert.equal(gate.accept(new FakeSocket('10.0.0.8') as unknown as net.Socket), true);
        await turn();
        advance(1);
      }
      assert.equal(started, before, 'no start while accepting');
      // A steady stream of accepts cannot starve the starts: one turn's worth every 50 ms.
      advance(50);
      assert.equal(gate.accept(new FakeSocket('10.0.0.8') as unknown as net.Socket), true);
      await turn();
      assert.ok(started > before, 'started after 50 ms of accepts');
      const mid = started;
      // A turn without an accept: the queue is empty, starts go on.
      await turn();
      assert.ok(started > mid);
    } finally {
      gate.close();
    }
  });

  it('the waiting connections of a client with few started go before those of a client with many', async () => {
    const { gate } = setup();
    try {
      const started: string[] = [];
      const open = (addr: string) => {
        const s = new FakeSocket(addr) as unknown as net.Socket;
        assert.equal(gate.accept(s), true);
        return s;
      };
      const many = Array.from({ length: 300 }, () => open('10.0.1.1'));
      const few = Array.from({ length: 5 }, () => open('10.0.1.2'));
      await turn();
      for (const s of many) gate.start(s, () => started.push('many'));
      await turn();
      for (const s of few) gate.start(s, () => started.push('few'));
      const at = started.length;
      for (let i = 0; i < 400 && started.length < 305; i++) await turn();
      assert.equal(started.length, 305);
      // All five start in the next five starts, not one per round.
      assert.deepEqual(started.slice(at, at + 5), ['few', 'few', 'few', 'few', 'few']);
    } finally {
      gate.close();
    }
  });

  it('a stall of the server does not count against a head deadline; a client that sends nothing is cut', () => {
    const { gate, counters, scan, advance } = setup();
    try {
      const s = new FakeSocket('10.0.0.3') as unknown as net.Socket;
      assert.equal(gate.accept(s), true);
      scan();
      // The event loop was blocked for 5 s: the scan after it sees at most a step's worth of time.
      advance(5000);
      scan();
      assert.equal(s.destroyed, false);
      assert.equal(counters.snapshot()['header-timeout'], undefined);
      for (let i = 0; i < 6; i++) {
        advance(250);
        scan();
      }
      assert.equal(counters.snapshot()['header-timeout'], 1);
    } finally {
      gate.close();
    }
  });
});
