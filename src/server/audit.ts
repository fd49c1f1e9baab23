import type { AuditRecord, AuditSink } from './context.js';

/** Forwards audit records to the sink attached once services exist (CloudTrail); drops them before. */
export function createAuditHub(): AuditSink & { attach(sink: AuditSink): void } {
  let target: AuditSink | undefined;
  return {
    attach(sink) {
      target = sink;
    },
    record(rec: AuditRecord) {
      target?.record(rec);
    },
  };
}
