import { EXIT } from '../../../protocol/errors';
import type { RunDetail } from '../../../protocol/types';
import type { Output } from '../output';
import { openReader, resolveRunId, workspaceOf, type RunsReader } from '../workspace-access';

const POLL_MS = 250;

/**
 * `mlops logs RUN [STEP] [--follow]`: a step's log (or every step's, one after the other,
 * with headers; interleaved with `step | ` prefixes when following). RUN may be a pipeline
 * run or one of its step runs.
 */
export async function logsCommand(io: Output, cwd: string, ref: string, step: string | undefined, opts: { follow?: boolean }): Promise<number> {
  const reader = await openReader(workspaceOf(cwd));
  try {
    let run = await reader.getRun(await resolveRunId(reader, ref));
    if (run.kind === 'step' && run.parentId) {
      step ??= run.name;
      run = await reader.getRun(run.parentId);
    }
    if (opts.follow) await follow(io, reader, run, step);
    else for (const s of step ? [step] : stepNames(run)) {
      if (!step) io.out(`==> ${s} <==`);
      await printAll(io, reader, run.id, s);
    }
    return EXIT.OK;
  } finally {
    await reader.close();
  }
}

function stepNames(run: RunDetail): string[] {
  return [...new Set(run.children.map((c) => c.name))];
}

async function printAll(io: Output, reader: RunsReader, runId: string, step: string): Promise<void> {
  const lines = new LineBuffer(io, '');
  for (let offset = 0; ; ) {
    const chunk = await reader.logs(runId, step, offset);
    lines.push(chunk.text);
    if (chunk.offset === offset || chunk.done) break;
    offset = chunk.offset;
  }
  lines.end();
}

async function follow(io: Output, reader: RunsReader, run: RunDetail, only: string | undefined): Promise<void> {
  const state = new Map<string, { offset: number; done: boolean; lines: LineBuffer }>();
  for (;;) {
    const names = only ? [only] : stepNames(run);
    let progressed = false;
    for (const name of names) {
      let s = state.get(name);
      if (!s) state.set(name, (s = { offset: 0, done: false, lines: new LineBuffer(io, only ? '' : `${name} | `) }));
      while (!s.done) {
        const chunk = await reader.logs(run.id, name, s.offset);
        s.lines.push(chunk.text);
        const moved = chunk.offset !== s.offset;
        s.offset = chunk.offset;
        s.done = chunk.done;
        if (s.done) s.lines.end();
        if (!moved) break;
        progressed = true;
      }
    }
    const runEnded = !['queued', 'running'].includes(run.status);
    if ((only ? state.get(only)!.done : runEnded && [...state.values()].every((s) => s.done)) && names.every((n) => state.has(n))) return;
    if (!progressed) await new Promise((r) => setTimeout(r, POLL_MS));
    run = await reader.getRun(run.id);
  }
}

/** Prints complete lines with a prefix; keeps a trailing partial line until more text or the end. */
class LineBuffer {
  private rest = '';
  constructor(private readonly io: Output, private readonly prefix: string) {}

  push(text: string): void {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop()!;
    for (const l of lines) this.io.out(this.prefix + l);
  }

  end(): void {
    if (this.rest) this.io.out(this.prefix + this.rest);
    this.rest = '';
  }
}
