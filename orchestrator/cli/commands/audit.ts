/**
 * `mlops audit log|verify`: the hash-chained record of every registry change. `verify` checks
 * each entry's hash, its link to the previous one, its signature by the workspace's audit key
 * and the anchored head, and names the entry where the chain breaks; exit 1 if it does.
 */
import type { Command } from 'commander';
import { EXIT, MlopsError } from '../../../protocol/errors';
import type { AuditEntry } from '../../../protocol/registry';
import { formatTime, table } from '../format';
import { runCommand, type Output } from '../output';
import { openRegistryReader } from '../registry-access';
import { workspaceOf } from '../workspace-access';

export function addAuditCommands(program: Command, io: Output, cwd: string, setExit: (code: number) => void): void {
  const act = <A extends unknown[]>(fn: (...args: A) => Promise<number>) => async (...args: A) => setExit(await runCommand(io, () => fn(...args)));
  const audit = program.command('audit').description('the audit log of registry changes (hash-chained, tamper-evident)');

  audit
    .command('log')
    .description('print the audit log, newest first')
    .option('--limit <n>', 'how many entries (1-10000, default 50)')
    .option('--json', 'print {entries, total} as JSON')
    .action(act(async (opts: { limit?: string; json?: boolean }) => {
      const limit = opts.limit === undefined ? 50 : Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new MlopsError('BAD_REQUEST', `--limit must be an integer from 1 to 10000 (got ${opts.limit})`);
      const reader = await openRegistryReader(workspaceOf(cwd));
      try {
        const res = await reader.reads.auditLog(limit, 0);
        if (opts.json) io.json(res);
        else if (res.entries.length === 0) io.out('the audit log is empty');
        else {
          for (const l of table(['SEQ', 'WHEN', 'ACTOR', 'ACTION', 'TARGET', 'CHANGE'], res.entries.map(row))) io.out(l);
          if (res.total > res.entries.length) io.out(`(${res.entries.length} of ${res.total}; --limit N for more)`);
        }
        return EXIT.OK;
      } finally {
        await reader.close();
      }
    }));

  audit
    .command('verify')
    .description('check the hash chain, the entry signatures and the anchored head; exit 1 on any break')
    .option('--json', 'print the verification as JSON')
    .action(act(async (opts: { json?: boolean }) => {
      const reader = await openRegistryReader(workspaceOf(cwd));
      try {
        const res = await reader.reads.verifyAudit();
        if (opts.json) io.json(res);
        else if (res.ok) io.out(`audit log OK: ${res.entries} entr${res.entries === 1 ? 'y' : 'ies'}, chain intact${res.anchor ? `, head #${res.anchor.seq} ${res.anchor.hash.slice(0, 12)} matches the anchor` : ''}`);
        else {
          io.err(`audit log FAILED verification (${res.entries} entries):`);
          for (const p of res.problems) io.err(`  ${p.seq !== undefined ? `entry ${p.seq}: ` : ''}${p.problem}`);
        }
        return res.ok ? EXIT.OK : EXIT.CHECK_FAILED;
      } finally {
        await reader.close();
      }
    }));
}

function row(e: AuditEntry): string[] {
  return [String(e.seq), formatTime(e.at), e.actor, e.action, e.target, change(e)];
}

function change(e: AuditEntry): string {
  const short = (x: unknown) => {
    const s = JSON.stringify(x);
    return s.length > 60 ? `${s.slice(0, 57)}…` : s;
  };
  if (e.before !== undefined && e.after !== undefined) return `${short(e.before)} → ${short(e.after)}`;
  if (e.after !== undefined) return short(e.after);
  if (e.before !== undefined) return `was ${short(e.before)}`;
  return '';
}
