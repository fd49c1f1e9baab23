import { Counter, Gauge, type Registry } from 'prom-client';

/** Shield's Prometheus series: admitted, rejected by reason, active blocks, attacks. */
export interface ShieldCounters {
  admitted(): void;
  /** `client`: the address (key) refused, when one is known. */
  rejected(reason: string, client?: string): void;
  blocked(key: string, ms: number): void;
  attackStarted(resource: string): void;
  /** A request matched Shield Advanced's automatic rule ('Block': refused, 'Count': only counted). */
  ruleMatched(action: 'Block' | 'Count'): void;
  /** Listens to every refusal (Shield's detection counts slow-connection kills). */
  onReject?(fn: (reason: string, client: string | undefined) => void): void;
  /** Totals by reason, for tests and the health view. */
  snapshot(): Record<string, number>;
}

export function createShieldCounters(registry: Registry | undefined, activeBlocks: () => number, activeAttacks: () => number): ShieldCounters {
  const totals: Record<string, number> = {};
  const listeners: ((reason: string, client: string | undefined) => void)[] = [];
  const bump = (k: string) => (totals[k] = (totals[k] ?? 0) + 1);
  const admitted = registry ? new Counter({ name: 'hanul_shield_admitted_total', help: 'Requests admitted by the protection layer', registers: [registry] }) : undefined;
  const rejected = registry ? new Counter({ name: 'hanul_shield_rejected_total', help: 'Connections and requests refused, by reason', labelNames: ['reason'] as const, registers: [registry] }) : undefined;
  const blocks = registry ? new Counter({ name: 'hanul_shield_blocks_total', help: 'Clients blocked', registers: [registry] }) : undefined;
  const attacks = registry ? new Counter({ name: 'hanul_shield_attacks_total', help: 'Attacks detected', registers: [registry] }) : undefined;
  const matched = registry ? new Counter({ name: 'hanul_shield_rule_matches_total', help: 'Requests matched by the automatic application-layer response, by action (Block refuses, Count only counts)', labelNames: ['action'] as const, registers: [registry] }) : undefined;
  if (registry) {
    new Gauge({ name: 'hanul_shield_active_blocks', help: 'Clients blocked now', registers: [registry], collect() { this.set(activeBlocks()); } });
    new Gauge({ name: 'hanul_shield_active_attacks', help: 'Attacks in progress', registers: [registry], collect() { this.set(activeAttacks()); } });
  }
  return {
    admitted() {
      admitted?.inc();
      bump('admitted');
    },
    rejected(reason, client) {
      rejected?.inc({ reason });
      bump(reason);
      for (const l of listeners) l(reason, client);
    },
    blocked() {
      blocks?.inc();
      bump('blocks');
    },
    attackStarted() {
      attacks?.inc();
      bump('attacks');
    },
    ruleMatched(action) {
      matched?.inc({ action });
      bump(`rule-${action.toLowerCase()}`);
    },
    onReject: (fn) => void listeners.push(fn),
    snapshot: () => ({ ...totals }),
  };
}
