import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditRecordSignal, PipelineWatch } from '../../src/health/health-signal.js';
import type { PipelineRecord } from '../../src/health/pipeline-record.js';
import { createAuditdParser } from '../../src/sources/parsers/auditd.js';
import { createGoAuditParser } from '../../src/sources/parsers/go-audit.js';
import { emptyOutput } from '../../src/sources/parser.js';
import { lineBlock } from '../../src/sources/line-block.js';

const AT = new Date('2026-12-01T10:00:00Z');
const RECORDED = 'test/fixtures/real/maintenance/cron-daily.log';

describe('what auditd records say about the pipeline', () => {
  it.each([
    ['DAEMON_END', 'op=terminate auid=0 uid=0 ses=4294967295 pid=15309 res=success', 'auditd_stopped', 'problem'],
    ['DAEMON_END', 'auditd normal halt, sending auid=? pid=? subj=? res=success', 'auditd_stopped', 'problem'],
    ['DAEMON_ABORT', 'op=abort auid=0 pid=1 res=failed', 'auditd_stopped', 'problem'],
    ['DAEMON_START', 'op=start ver=3.0.9 format=enriched kernel=6.18.44 auid=4294967295 pid=15315 uid=0 ses=4294967295 res=success', 'auditd_stopped', 'recovered'],
    ['CONFIG_CHANGE', 'op=set audit_enabled=0 old=1 auid=4294967295 ses=4294967295 res=1', 'audit_disabled', 'problem'],
    ['CONFIG_CHANGE', 'audit_enabled=0 old=1 auid=1000 ses=3 res=1', 'audit_disabled', 'problem'],
    ['CONFIG_CHANGE', 'op=set audit_enabled=1 old=0 auid=4294967295 ses=4294967295 res=1', 'audit_disabled', 'recovered'],
    ['CONFIG_CHANGE', 'auid=4294967295 ses=4294967295 op=remove_rule key="vouch-maint" list=4 res=1', 'audit_rules_removed', 'problem'],
    ['CONFIG_CHANGE', 'auid=0 ses=1 op="remove rule" key=(null) list=4 res=1', 'audit_rules_removed', 'problem'],
    ['CONFIG_CHANGE', 'auid=1000 ses=3 op="add_rule" key=(null) list=4 res=1', 'audit_rules_removed', 'recovered'],
  ])('%s %s', (type, body, kind, state) => {
    expect(auditRecordSignal('db-1', type, body, AT)).toMatchObject({ host: 'db-1', kind, state });
  });

  it('ignores changes that failed and ones that say nothing about the pipeline', () => {
    expect(auditRecordSignal('db-1', 'CONFIG_CHANGE', 'op=set audit_enabled=0 old=1 auid=1000 ses=3 res=0', AT)).toBeNull();
    expect(auditRecordSignal('db-1', 'CONFIG_CHANGE', 'op=remove_rule key=(null) list=4 res=0', AT)).toBeNull();
    expect(auditRecordSignal('db-1', 'CONFIG_CHANGE', 'audit_backlog_limit=64 old=8192 auid=4294967295 ses=4294967295 res=1', AT)).toBeNull();
  });

  it('quotes a bounded part of the record', () => {
    const signal = auditRecordSignal('db-1', 'DAEMON_END', `op=terminate ${'x'.repeat(10_000)}`, AT);
    expect(signal?.detail.length).toBeLessThan(500);
  });
});

describe('the parsers hand pipeline records to the watch', () => {
  it('reads auditd DAEMON and CONFIG_CHANGE records on the byte path and the string path alike', () => {
    const text = readFileSync(RECORDED);
    const types = (records: PipelineRecord[]) => records.map((record) => (record.kind === 'audit_record' ? record.type : record.kind));
    const viaBytes: PipelineRecord[] = [];
    const bytesParser = createAuditdParser({ defaultHost: 'vm', onPipelineRecord: (record) => viaBytes.push(record) });
    const out = emptyOutput();
    // The whole log as one block of complete lines (the file ends with a newline).
    bytesParser.pushBlock?.(lineBlock(text, 0, text.length - 1, 0), AT, out);
    const viaLines: PipelineRecord[] = [];
    const lineParser = createAuditdParser({ defaultHost: 'vm', onPipelineRecord: (record) => viaLines.push(record) });
    let offset = 0;
    for (const line of text.toString('latin1').slice(0, -1).split('\n')) {
      lineParser.push(line, offset, AT);
      offset += Buffer.byteLength(line) + 1;
    }
    expect(types(viaBytes)).toEqual(types(viaLines));
    expect(types(viaBytes)[0]).toBe('DAEMON_START');
    expect(types(viaBytes).at(-1)).toBe('DAEMON_END');
    expect(types(viaBytes).filter((type) => type === 'CONFIG_CHANGE')).toHaveLength(14);
    expect(viaBytes[0]).toMatchObject({ host: 'vm', time: new Date(1796167938431) });
  });

  it('passes kernel loss messages on instead of counting them malformed, only when watched', () => {
    const line = 'Dec 11 21:46:56 db-2 kernel: [2081500.871623] audit: backlog limit exceeded';
    const records: PipelineRecord[] = [];
    const watched = createAuditdParser({ defaultHost: 'vm', onPipelineRecord: (record) => records.push(record) });
    expect(watched.push(line, 0, AT).malformed).toEqual([]);
    expect(records).toEqual([{ kind: 'kernel_message', host: 'vm', text: line }]);
    const watch = new PipelineWatch(() => AT);
    watch.observe(records[0]!);
    expect(watch.drain()).toEqual([expect.objectContaining({ host: 'db-2', kind: 'events_lost', state: 'problem' })]);
    expect(createAuditdParser({ defaultHost: 'vm' }).push(line, 0, AT).malformed).toHaveLength(1);
  });

  it('passes the CONFIG_CHANGE records go-audit relays (type 1305)', () => {
    const watch = new PipelineWatch(() => AT);
    const parser = createGoAuditParser({ defaultHost: 'vm', onPipelineRecord: watch.observe });
    const data = 'audit(1796167943.849:47): op=set audit_enabled=0 old=1 auid=1000 ses=3 res=1';
    parser.push(JSON.stringify({ sequence: 47, timestamp: '1796167943.849', hostname: 'app-1', messages: [{ type: 1305, data }] }), 0, AT);
    expect(watch.drain()).toEqual([expect.objectContaining({ host: 'app-1', kind: 'audit_disabled', state: 'problem' })]);
  });

  it('turns a jump in go-audit sequence numbers into a gap, and a restart (lower number) into none', () => {
    const watch = new PipelineWatch(() => AT);
    const parser = createGoAuditParser({ defaultHost: 'vm', onPipelineRecord: watch.observe });
    const group = (sequence: number) => JSON.stringify({ sequence, timestamp: '1796167939.100', hostname: 'app-1', messages: [] });
    for (const sequence of [7, 8, 9, 12, 13, 1, 2]) parser.push(group(sequence), 0, AT);
    expect(watch.drain()).toEqual([expect.objectContaining({ host: 'app-1', kind: 'sequence_gap', detail: expect.stringContaining('from sequence 9 to 12') })]);
  });
});
