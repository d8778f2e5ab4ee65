import * as path from 'node:path';
import { stringify } from 'yaml';
import type { EntryKind } from '../../../orchestrator/manifest/symbols';
import type { SpaceEntry } from '../../../protocol/sweep';
import { gridSize, gridValues, parseSpace } from '../../../orchestrator/sweeps/space';
import { listOf, outsOf, type Analysis } from './analysis';
import type { FileProbe } from './file-probe';

export type NameKind = EntryKind;

/** Markdown describing what a name stands for: shown on hover and in completion details. */
export function describeName(a: Analysis, kind: NameKind, name: string, files: FileProbe): string | undefined {
  const code = (s: string) => '`' + s.replace(/`/g, "'") + '`';
  const usedBy = (refKind: 'step' | 'param' | 'dataset' | 'model') => {
    const owners = new Map<string, Set<string>>();
    for (const r of a.index().refsTo(refKind, name)) {
      const key = `${r.owner.kind} ${code(r.owner.name)}`;
      if (!owners.has(key)) owners.set(key, new Set());
      owners.get(key)!.add(r.via === 'interpolation' ? '${…}' : r.via);
    }
    const list = [...owners].map(([o, via]) => `${o} (${[...via].join(', ')})`);
    if (!list.length) return 'Not used anywhere in this manifest.';
    return `Used by ${list.length > 8 ? `${list.slice(0, 8).join(', ')} and ${list.length - 8} more` : list.join(', ')}.`;
  };
  switch (kind) {
    case 'step': {
      const s = a.entry('steps', name);
      if (!s) return undefined;
      const parts = [`**step** ${code(name)}`];
      if (typeof s.description === 'string') parts.push(s.description);
      const cmd = Array.isArray(s.cmd) ? s.cmd.join('\n') : typeof s.cmd === 'string' ? s.cmd : undefined;
      if (cmd) parts.push('```sh\n' + cmd + '\n```');
      const needs = listOf(s.needs);
      if (needs.length) parts.push(`Needs: ${needs.map(code).join(', ')}`);
      const outs = outsOf(s);
      if (outs.length) parts.push(`Outputs:\n${outs.map((o, i) => `- ${code(o)} — \`\${steps.${name}.outs.${i}}\``).join('\n')}`);
      const params = listOf(s.params);
      if (params.length) parts.push(`Params: ${params.map(code).join(', ')}`);
      parts.push(usedBy('step'));
      return parts.join('\n\n');
    }
    case 'param': {
      const params = a.section('params');
      if (!(name in params)) return undefined;
      const v = params[name];
      const shown = typeof v === 'object' ? JSON.stringify(v) : String(v);
      return [`**param** ${code(name)} = ${code(shown)}`, 'Default value; a run or a sweep can override it. Write `${params.' + name + '}` to use it.', usedBy('param')].join('\n\n');
    }
    case 'dataset': {
      const d = a.entry('datasets', name);
      if (!d) return undefined;
      const parts = [`**dataset** ${code(name)}`];
      if (typeof d.description === 'string') parts.push(d.description);
      if (typeof d.path === 'string') {
        const dir = a.dir;
        const st = dir ? files.stat(path.resolve(dir, d.path)) : undefined;
        const size = st ? (st.isDirectory() ? 'a folder' : formatSize(st.size)) : dir ? 'not found on disk' : 'unsaved manifest';
        parts.push(`Path: ${code(d.path)} (${size}${st ? `, modified ${st.mtime.toISOString().slice(0, 16).replace('T', ' ')}` : ''})`);
      }
      if (typeof d.format === 'string') parts.push(`Format: ${d.format}`);
      if (d.schema && typeof d.schema === 'object') parts.push(`Columns: ${Object.keys(d.schema).map(code).join(', ')}`);
      parts.push(usedBy('dataset'));
      return parts.join('\n\n');
    }
    case 'model': {
      const m = a.entry('models', name);
      if (!m) return undefined;
      const parts = [`**model** ${code(name)}`];
      if (typeof m.description === 'string') parts.push(m.description);
      parts.push(`From step ${code(String(m.from ?? '?'))}, artifact ${code(String(m.artifact ?? '?'))}, flavor ${m.flavor ?? 'onnx'}`);
      if (Array.isArray(m.gates) && m.gates.length) parts.push('Gates:\n```yaml\n' + stringify(m.gates, { lineWidth: 0 }).trimEnd() + '\n```');
      parts.push(usedBy('model'));
      return parts.join('\n\n');
    }
    case 'deployment':
    case 'sweep': {
      const e = a.entry(kind === 'deployment' ? 'deployments' : 'sweeps', name);
      if (!e) return undefined;
      const yaml = `\`\`\`yaml\n${stringify(e, { lineWidth: 0 }).trimEnd().split('\n').slice(0, 20).join('\n')}\n\`\`\``;
      return [`**${kind}** ${code(name)}`, ...(kind === 'sweep' ? [spaceSize(e)] : []), yaml].join('\n\n');
    }
  }
}

/** "Search space: 3 × 4 = 12 grid points" (or continuous), as the grid sampler counts it. */
function spaceSize(sweep: unknown): string {
  const space = (sweep as { space?: Record<string, SpaceEntry> } | null)?.space;
  try {
    const parsed = parseSpace(space);
    const sizes = [...parsed.values()].map((d) => gridValues(d)?.length);
    const n = gridSize(parsed);
    if (n === undefined) return `Search space: continuous in ${[...parsed].filter(([, d]) => !gridValues(d)).map(([k]) => '`' + k + '`').join(', ')} (grid needs choice, int or quniform).`;
    return `Search space: ${sizes.join(' × ')} = **${n}** grid point${n === 1 ? '' : 's'}.`;
  } catch (e) {
    return `Search space: ${(e as Error).message}.`;
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
