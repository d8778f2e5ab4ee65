import * as path from 'node:path';
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import { resolveInterpolation, type InterpolationScope } from '../../../orchestrator/manifest';
import type { Span } from '../../../orchestrator/manifest/parsed-manifest';
import type { Analysis } from './analysis';
import { describeName, formatSize } from './describe';
import type { FileProbe } from './file-probe';
import { documentation, schemaAt } from './schema-info';

/** Hover: what a name points to, what an interpolation resolves to, and the schema's documentation of a key. */
export class HoverService {
  constructor(private readonly files: FileProbe) {}

  hover(a: Analysis, pos: Position): Hover | null {
    const offset = a.doc.offsetAt(pos);
    const idx = a.index();
    const range = (s: Span) => ({ start: a.doc.positionAt(s.start), end: a.doc.positionAt(s.end) });
    const md = (value: string, s: Span): Hover => ({ contents: { kind: MarkupKind.Markdown, value }, range: range(s) });

    const interp = idx.interpolationAt(offset);
    const hit = idx.at(offset);
    if (hit) {
      const { kind, name, span } = 'def' in hit ? { ...hit.def, span: hit.def.name_ } : hit.ref;
      let text = describeName(a, kind, name, this.files) ?? `Unknown ${kind} \`${name}\`: it is not defined in this manifest.`;
      if (interp) text = `${this.resolved(a, interp.expr)}\n\n---\n\n${text}`;
      return md(text, span);
    }
    if (interp) return md(this.resolved(a, interp.expr), interp.span);

    const file = idx.fileAt(offset);
    const loc = a.parsed.locate(offset);
    if (!loc) return null;
    const nodes = schemaAt(loc.path);
    const key = loc.path[loc.path.length - 1];
    const parts: string[] = [];
    if (file && a.dir) {
      const st = this.files.stat(path.resolve(a.dir, file.path));
      parts.push(`${'`'}${file.path}${'`'}: ${st ? (st.isDirectory() ? 'folder' : formatSize(st.size)) : 'not on disk yet'}`);
    }
    if (nodes.length) parts.push(documentation(nodes[0], typeof key === 'string' ? key : undefined));
    if (!parts.length) return null;
    const r = loc.node.range;
    return md(parts.join('\n\n---\n\n'), file ? file.span : r ? { start: loc.offset + r[0], end: loc.offset + r[1] } : { start: offset, end: offset });
  }

  private resolved(a: Analysis, expr: string): string {
    const scope: InterpolationScope = { params: a.section('params'), datasets: a.section('datasets') as InterpolationScope['datasets'], steps: a.section('steps') as InterpolationScope['steps'] };
    const r = resolveInterpolation(expr, scope);
    if (!r.ok) return `\`\${${expr}}\` does not resolve: ${r.message}`;
    if (expr === 'run.id') return '`${run.id}` is replaced by the id of the run when the step runs.';
    return `\`\${${expr}}\` → \`${r.value ?? ''}\``;
  }
}
