/** The dimensions Shield reports top contributors for (AttackPropertyIdentifier). */
export const DIMENSIONS = ['SOURCE_IP_ADDRESS', 'DESTINATION_URL', 'SOURCE_USER_AGENT', 'REFERRER'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/**
 * A bounded counter table: at most `cap` values are tracked; when full, a new
 * value replaces the smallest one and inherits its count (Space-Saving), so
 * heavy hitters are never lost and memory stays fixed under a distributed flood.
 */
export class TopK {
  private readonly counts = new Map<string, number>();
  total = 0;
  constructor(private readonly cap = 256) {}

  add(value: string, n = 1): void {
    this.total += n;
    const c = this.counts.get(value);
    if (c !== undefined) {
      this.counts.set(value, c + n);
      return;
    }
    if (this.counts.size < this.cap) {
      this.counts.set(value, n);
      return;
    }
    let minKey = '';
    let min = Infinity;
    for (const [k, v] of this.counts) if (v < min) [min, minKey] = [v, k];
    this.counts.delete(minKey);
    this.counts.set(value, min + n);
  }

  get(value: string): number {
    return this.counts.get(value) ?? 0;
  }

  merge(o: TopK): void {
    for (const [k, v] of o.counts) this.add(k, v);
  }

  /** Multiplies every count (a decaying baseline). */
  decay(f: number): void {
    this.total *= f;
    for (const [k, v] of this.counts) {
      const n = v * f;
      if (n < 0.5) this.counts.delete(k);
      else this.counts.set(k, n);
    }
  }

  top(n: number): { value: string; count: number }[] {
    return [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([value, count]) => ({ value, count }));
  }
}

export type DimTables = Record<Dimension, TopK>;
export const newTables = (cap?: number): DimTables => ({
  SOURCE_IP_ADDRESS: new TopK(cap),
  DESTINATION_URL: new TopK(cap),
  SOURCE_USER_AGENT: new TopK(cap),
  REFERRER: new TopK(cap),
});
