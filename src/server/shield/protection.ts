import type http from 'node:http';
import type http2 from 'node:http2';
import type net from 'node:net';
import type { Registry } from 'prom-client';
import { AwsError } from '../../aws/errors.js';
import type { ServiceDefinition } from '../../aws/service.js';
import type { Config } from '../../config.js';
import { effectiveAddress, parseCidrs, type CidrList } from './addr.js';
import { Admission } from './admission.js';
import { createShieldCounters, type ShieldCounters } from './counters.js';
import { ConnectionGate } from './gate.js';
import { watchH2Session } from './h2.js';

/** One request as detection sees it (after the response). */
export interface TrafficSample {
  address: string;
  service: string;
  hostname: string;
  path: string;
  userAgent: string;
  referer: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
}

/** A rule installed by Shield Advanced's automatic response: true → this request is refused ('Block'). */
export type RequestRule = (sample: Omit<TrafficSample, 'status' | 'bytesIn' | 'bytesOut'>) => boolean;

export interface Protection {
  readonly gate: ConnectionGate;
  readonly counters: ShieldCounters;
  /** The address a request counts against (X-Forwarded-For only from trusted proxies). */
  addressOf(peer: string | undefined, headers: http.IncomingHttpHeaders): string;
  /** undefined → admitted; else the refusal, rendered in `service`'s own throttling error. */
  admit(address: string, sample: Omit<TrafficSample, 'status' | 'bytesIn' | 'bytesOut'>): ((service: ServiceDefinition | undefined) => AwsError) | undefined;
  /** Every finished request, for detection. */
  observe(sample: TrafficSample): void;
  accept(socket: net.Socket): boolean;
  start(socket: net.Socket, begin: () => void): void;
  classified(socket: net.Socket, kind: 'h1' | 'h2' | 'tls'): void;
  requestStarted(socket: net.Socket, req: http.IncomingMessage | undefined): void;
  requestEnded(socket: net.Socket): void;
  readonly h2MaxStreams: number;
  h2Session(session: http2.ServerHttp2Session): void;
  onTraffic(fn: (s: TrafficSample) => void): void;
  addRule(fn: RequestRule): () => void;
  /** The Shield service reports how many attacks are in progress (a /metrics gauge). */
  attackGauge(fn: () => number): void;
  close(): void;
}

/** Each service's own "slow down": S3 503 SlowDown, Kinesis ProvisionedThroughputExceededException, JSON ThrottlingException, query Throttling. */
export function throttlingError(service: ServiceDefinition | undefined): AwsError {
  const retry = { 'Retry-After': '1' };
  if (!service || service.protocol === 'rest-xml') return new AwsError('SlowDown', 503, 'Please reduce your request rate.', {}, retry);
  if (service.name === 'kinesis') return new AwsError('ProvisionedThroughputExceededException', 400, 'Rate exceeded for the account: reduce the request rate.', {}, retry);
  if (service.protocol === 'query') return new AwsError('Throttling', 400, 'Rate exceeded', {}, retry);
  return new AwsError('ThrottlingException', 400, 'Rate exceeded', {}, retry);
}

export function createProtection(config: Config, registry?: Registry): Protection {
  const allow: CidrList = parseCidrs(config.shieldAllowlist);
  const proxies: CidrList = parseCidrs(config.shieldTrustedProxies);
  let attacks = () => 0;
  const counters = createShieldCounters(registry, () => gate.activeBlocks(), () => attacks());
  const gate = new ConnectionGate(
    {
      maxConnections: config.shieldMaxConnections,
      clientConnections: config.shieldClientConnections,
      connectionRate: config.shieldConnectionRate,
      headerTimeoutMs: config.shieldHeaderTimeoutMs,
      bodyMinRate: config.shieldBodyMinRate,
      watchWindowMs: config.shieldWatchWindowMs,
      holdMs: 30_000,
      maxHeld: Math.max(64, Math.floor(config.shieldMaxConnections / 4)),
    },
    allow,
    counters,
  );
  const admission = new Admission({
    clientRps: config.shieldClientRps,
    pressureClientRps: config.shieldPressureClientRps,
    pressureDelayMs: 50,
    pressureInFlight: 48,
    blockAfterMs: 1000,
  });
  const listeners: ((s: TrafficSample) => void)[] = [];
  const rules = new Set<RequestRule>();
  return {
    gate,
    counters,
    attackGauge(fn) {
      attacks = fn;
    },
    addressOf(peer, headers) {
      return effectiveAddress(peer, headers['x-forwarded-for'], proxies) ?? '';
    },
    admit(address, sample) {
      if (allow.contains(address)) {
        counters.admitted();
        return undefined;
      }
      let reason: string | undefined;
      if (gate.isBlocked(address)) reason = 'blocked';
      else {
        // Rate first, so a flooding source is blocked at the gate even while a signature rule refuses its requests.
        const v = admission.check(address);
        if (!v.ok) {
          reason = v.reason;
          if (v.block) gate.block(address, config.shieldBlockSeconds * 1000);
        } else for (const r of rules) if (r(sample)) reason = 'automatic-response';
      }
      if (!reason) {
        counters.admitted();
        return undefined;
      }
      counters.rejected(reason);
      return throttlingError;
    },
    observe(sample) {
      for (const l of listeners) l(sample);
    },
    accept: (socket) => gate.accept(socket),
    start: (socket, begin) => gate.start(socket, begin),
    h2MaxStreams: config.shieldH2MaxStreams,
    h2Session: (session) => watchH2Session(session, { maxStreams: config.shieldH2MaxStreams, resetRate: config.shieldH2ResetRate }, counters),
    classified: (socket, kind) => gate.classified(socket, kind),
    requestStarted(socket, req) {
      admission.started();
      gate.requestStarted(
        socket,
        req && {
          complete: () => req.complete || req.readableEnded,
          starved: () => req.readableLength >= req.readableHighWaterMark,
        },
      );
    },
    requestEnded(socket) {
      admission.ended();
      gate.requestEnded(socket);
    },
    onTraffic(fn) {
      listeners.push(fn);
    },
    addRule(fn) {
      rules.add(fn);
      return () => rules.delete(fn);
    },
    close() {
      gate.close();
      admission.close();
    },
  };
}

/** Protections by config object: the Shield service finds its app's protection layer here. */
const byConfig = new WeakMap<object, Protection>();
export function registerProtection(config: object, p: Protection): void {
  byConfig.set(config, p);
}
export function protectionOf(config: object): Protection | undefined {
  return byConfig.get(config);
}
