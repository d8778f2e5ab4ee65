import * as path from 'node:path';
import {
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type CompletionItem,
  type CompletionList,
  type Position,
  type Range,
} from 'vscode-languageserver';
import { outsOf, short, type Analysis } from './analysis';
import { cursorContext, type CursorContext } from './cursor-context';
import type { FileProbe } from './file-probe';
import { describeName, type NameKind } from './describe';
import { documentation, enumValues, isNameKeyed, propertiesAt, schemaAt, typesOf, alternatives, type SchemaNode } from './schema-info';

/** Most items sent for one list of names; the client asks again as the user types more. */
const MAX_ITEMS = 500;

/** What completionItem/resolve needs to fill in an item's documentation. */
export interface CompletionData {
  uri: string;
  kind: NameKind;
  name: string;
}

const SNIPPETS: Record<string, { label: string; detail: string; body: string[] }> = {
  steps: {
    label: 'new step',
    detail: 'A pipeline step: command, inputs and outputs',
    body: ['${1:train}:', '\tdescription: ${2:What this step does}', '\tcmd: ${3:python train.py --lr \\${params.lr\\}}', '\tdeps:', '\t\t- ${4:train.py}', '\touts:', '\t\t- ${5:models/model.onnx}', '$0'],
  },
  datasets: {
    label: 'new dataset',
    detail: 'A dataset file with a column schema and expectations',
    body: ['${1:raw}:', '\tpath: ${2:data/raw.csv}', '\tformat: ${3|csv,parquet,json|}', '\tschema:', '\t\t${4:id}: ${5|number,integer,string,boolean,category,datetime|}', '\texpect:', '\t\t- not_null: [${4:id}]', '$0'],
  },
  models: {
    label: 'new model',
    detail: 'A registered model built from a step output',
    body: ['${1:classifier}:', '\tfrom: ${2:train}', '\tartifact: ${3:models/model.onnx}', '\tflavor: ${4|onnx,command|}', '\tgates:', '\t\t- {metric: ${5:accuracy}, min: ${6:0.9}}', '$0'],
  },
  deployments: {
    label: 'new deployment',
    detail: 'A local HTTP server for a model',
    body: ['${1:api}:', '\tmodel: ${2:classifier}', '\tport: ${3:8700}', '\trollout:', '\t\tstrategy: ${4|direct,canary,ab,shadow|}', '$0'],
  },
  sweeps: {
    label: 'new sweep',
    detail: 'A hyperparameter search over one step',
    body: ['${1:search}:', '\tstep: ${2:train}', '\tobjective: {metric: ${3:val_auc}, goal: ${4|maximize,minimize|}}', '\tspace:', '\t\t${5:lr}: {loguniform: [${6:0.0001}, ${7:0.3}]}', '\ttrials: ${8:20}', '$0'],
  },
};

export class CompletionService {
  constructor(private readonly files: FileProbe) {}

  complete(a: Analysis, pos: Position): CompletionList {
    const offset = a.doc.offsetAt(pos);
    const ctx = cursorContext(a.text, offset);
    const range = (start: number, end = ctx.replaceEnd): Range => ({ start: a.doc.positionAt(start), end: a.doc.positionAt(end) });
    const list: CompletionList = { isIncomplete: false, items: [] };

    const valuePath = ctx.kind === 'value' ? [...ctx.path, ctx.key!, ...(ctx.flowItem ? [0] : [])] : ctx.path;
    const dollar = ctx.kind !== 'key' ? ctx.valueBefore.lastIndexOf('${') : -1;
    if (dollar !== -1 && ctx.valueBefore.indexOf('}', dollar) === -1) {
      this.interpolations(a, offset, range, list);
      return list;
    }
    if (ctx.kind === 'key') this.keys(a, ctx, range, list);
    else this.values(a, ctx, valuePath, offset, range, list);
    return list;
  }

  resolve(a: Analysis | undefined, item: CompletionItem): CompletionItem {
    const data = item.data as CompletionData | undefined;
    if (a && data?.kind && data.name !== undefined) {
      const md = describeName(a, data.kind, data.name, this.files);
      if (md) item.documentation = { kind: MarkupKind.Markdown, value: md };
    }
    return item;
  }

  private keys(a: Analysis, ctx: CursorContext, range: (s: number, e?: number) => Range, list: CompletionList): void {
    const r = range(ctx.replaceStart);
    const unit = ' '.repeat(ctx.indentUnit);
    if (isNameKeyed(ctx.path)) {
      const section = ctx.path.length === 1 ? String(ctx.path[0]) : undefined;
      const snip = section ? SNIPPETS[section] : undefined;
      if (snip) {
        list.items.push({
          label: snip.label,
          kind: CompletionItemKind.Snippet,
          detail: snip.detail,
          documentation: { kind: MarkupKind.Markdown, value: documentation(schemaAt([section!, '*'])[0] ?? {}) },
          insertTextFormat: InsertTextFormat.Snippet,
          textEdit: { range: r, newText: snip.body.join('\n').replace(/\t/g, unit) },
          filterText: ctx.prefix || snip.label,
          sortText: '0',
        });
      }
      // A sweep's space is keyed by param names.
      if (ctx.path.length === 4 && ctx.path[0] === 'sweeps' && ctx.path[2] === 'space') {
        for (const p of Object.keys(a.section('params'))) {
          if (ctx.siblings.has(p)) continue;
          list.items.push({ label: p, kind: CompletionItemKind.Variable, detail: `param (default ${short(JSON.stringify(a.section('params')[p]), 40)})`,
            insertTextFormat: InsertTextFormat.Snippet, textEdit: { range: r, newText: `${p}: {\${1|uniform,loguniform,int,quniform,choice|}: [$2]}` }, data: { uri: a.doc.uri, kind: 'param', name: p } satisfies CompletionData });
        }
      }
      return;
    }
    const props = propertiesAt(ctx.path);
    props.forEach((p, i) => {
      if (ctx.siblings.has(p.name)) return;
      list.items.push({
        label: p.name,
        kind: CompletionItemKind.Property,
        detail: [p.required ? 'required' : '', typesOf(p.node).join(' | ')].filter(Boolean).join(' · '),
        documentation: { kind: MarkupKind.Markdown, value: documentation(p.node, p.name) },
        insertTextFormat: InsertTextFormat.Snippet,
        textEdit: { range: r, newText: keySnippet(p.name, p.node, unit) },
        sortText: `${p.required ? 0 : 1}${String(i).padStart(3, '0')}`,
        ...(keySnippet(p.name, p.node, unit).includes('[$1]') ? { command: { title: 'Suggest', command: 'editor.action.triggerSuggest' } } : {}),
      });
    });
  }

  private values(a: Analysis, ctx: CursorContext, valuePath: (string | number)[], offset: number, range: (s: number, e?: number) => Range, list: CompletionList): void {
    const [section, owner, field] = valuePath;
    const isList = ctx.kind === 'item' || ctx.flowItem;
    const lead = ctx.needsSpace ? ' ' : '';
    const names = (kind: NameKind, candidates: string[], exclude: string[]) => {
      const skip = new Set([...exclude, ...ctx.listItems]);
      const wrap = ctx.kind === 'value' && !ctx.flowItem && isArrayAt(valuePath);
      this.pushNames(a, list, kind, candidates.filter((n) => !skip.has(n)), ctx.prefix, range(ctx.replaceStart), (n) => (wrap ? `${lead}[${n}]` : lead + n));
    };

    if (section === 'steps' && field === 'needs' && typeof owner === 'string') return names('step', Object.keys(a.section('steps')), [owner]);
    if (section === 'steps' && field === 'params' && typeof owner === 'string') return names('param', Object.keys(a.section('params')), []);
    if ((section === 'models' && field === 'from') || (section === 'sweeps' && field === 'step')) return names('step', Object.keys(a.section('steps')), []);
    if (section === 'deployments' && field === 'model') return names('model', Object.keys(a.section('models')), []);

    if (section === 'steps' && typeof owner === 'string' && (field === 'deps' || field === 'outs' || field === 'metrics' || field === 'wdir')) {
      if (field === 'deps' && isList) this.producedPaths(a, owner, ctx, range, list);
      this.filePaths(a, ctx, offset, range, list, field === 'wdir');
      return;
    }
    if ((section === 'datasets' && field === 'path') || (section === 'models' && field === 'artifact')) {
      if (section === 'models' && typeof owner === 'string') {
        const from = a.entry('models', owner)?.from;
        const step = typeof from === 'string' ? a.entry('steps', from) : undefined;
        outsOf(step).forEach((o, i) => list.items.push({ label: o, kind: CompletionItemKind.File, detail: `out of step "${from}"`, sortText: `0${i}`, textEdit: { range: range(ctx.replaceStart), newText: lead + o } }));
      }
      this.filePaths(a, ctx, offset, range, list, false);
      return;
    }
    if (section === 'steps' && field === 'cmd') {
      // Paths for the words after the program name.
      if (/\S\s+\S*$/.test(ctx.valueBefore)) this.filePaths(a, ctx, offset, range, list, false);
      return;
    }

    const nodes = schemaAt(valuePath);
    const r = range(ctx.replaceStart);
    const seen = new Set<string>();
    for (const node of nodes) {
      for (const v of enumValues(node)) {
        const text = String(v.value);
        if (seen.has(text)) continue;
        seen.add(text);
        list.items.push({ label: text, kind: CompletionItemKind.EnumMember, ...(v.description ? { detail: short(v.description) } : {}),
          documentation: { kind: MarkupKind.Markdown, value: documentation(node, ctx.key) }, textEdit: { range: r, newText: lead + text } });
      }
    }
    if (list.items.length) return;
    for (const node of nodes.flatMap((n) => alternatives(n))) {
      for (const ex of node.examples ?? []) {
        if (ex === null || typeof ex === 'object') continue;
        const text = String(ex);
        if (seen.has(text)) continue;
        seen.add(text);
        list.items.push({ label: text, kind: CompletionItemKind.Value, detail: 'example', documentation: { kind: MarkupKind.Markdown, value: documentation(node, ctx.key) }, textEdit: { range: r, newText: lead + text } });
      }
    }
  }

  private pushNames(a: Analysis, list: CompletionList, kind: NameKind, candidates: string[], prefix: string, r: Range, text: (n: string) => string): void {
    let shown = candidates;
    if (shown.length > MAX_ITEMS) {
      const p = prefix.toLowerCase();
      shown = candidates.filter((n) => n.toLowerCase().startsWith(p)).concat(candidates.filter((n) => !n.toLowerCase().startsWith(p) && n.toLowerCase().includes(p)));
      if (shown.length > MAX_ITEMS) shown = shown.slice(0, MAX_ITEMS);
      list.isIncomplete = true;
    }
    const itemKind = kind === 'step' ? CompletionItemKind.Function : kind === 'param' ? CompletionItemKind.Variable : kind === 'model' ? CompletionItemKind.Class : CompletionItemKind.File;
    shown.forEach((n, i) => {
      const entry = a.entry(kind === 'step' ? 'steps' : kind === 'param' ? 'params' : kind === 'model' ? 'models' : 'datasets', n);
      const detail = kind === 'param' ? `param = ${short(JSON.stringify(a.section('params')[n]) ?? '', 40)}` : kind === 'step' && typeof entry?.cmd === 'string' ? short(entry.cmd, 60) : kind;
      list.items.push({ label: n, kind: itemKind, detail, sortText: String(i).padStart(6, '0'), textEdit: { range: r, newText: text(n) }, data: { uri: a.doc.uri, kind, name: n } satisfies CompletionData });
    });
  }

  /** Inside `${…}`: every expression that resolves. */
  private interpolations(a: Analysis, offset: number, range: (s: number, e?: number) => Range, list: CompletionList): void {
    const text = a.text;
    const open = text.lastIndexOf('${', offset);
    const start = open + 2;
    let end = offset;
    while (end < text.length && /[A-Za-z0-9_.\-]/.test(text[end])) end++;
    const closed = text[end] === '}';
    const typed = text.slice(start, offset).trim();
    const r = range(start, end);
    const push = (expr: string, kind: CompletionItemKind, detail: string, sort: string, data?: CompletionData) =>
      list.items.push({ label: expr, kind, detail, sortText: sort, filterText: expr, textEdit: { range: r, newText: closed ? expr : `${expr}}` }, ...(data ? { data } : {}) });
    const params = a.section('params');
    for (const p of Object.keys(params)) push(`params.${p}`, CompletionItemKind.Variable, `= ${short(JSON.stringify(params[p]) ?? '', 40)}`, '1', { uri: a.doc.uri, kind: 'param', name: p });
    for (const [d, ds] of Object.entries(a.section('datasets'))) {
      const p = ds && typeof ds === 'object' ? (ds as { path?: unknown }).path : undefined;
      push(`datasets.${d}.path`, CompletionItemKind.File, typeof p === 'string' ? p : 'dataset path', '2', { uri: a.doc.uri, kind: 'dataset', name: d });
    }
    push('run.id', CompletionItemKind.Constant, 'id of the current run', '4');
    const steps = Object.keys(a.section('steps'));
    const lower = typed.toLowerCase();
    const dot = lower.startsWith('steps.') ? lower.slice(6) : '';
    let count = 0;
    for (const s of steps) {
      if (count >= MAX_ITEMS) {
        list.isIncomplete = true;
        break;
      }
      if (steps.length > MAX_ITEMS / 2 && dot && !s.toLowerCase().startsWith(dot.split('.')[0])) continue;
      outsOf(a.entry('steps', s)).forEach((o, i) => {
        count++;
        push(`steps.${s}.outs.${i}`, CompletionItemKind.Reference, o, '3', { uri: a.doc.uri, kind: 'step', name: s });
      });
    }
    if (steps.length > MAX_ITEMS / 2 && !dot) list.isIncomplete = true;
  }

  /** For deps: outputs of other steps (they create the edge) and dataset paths. */
  private producedPaths(a: Analysis, self: string, ctx: CursorContext, range: (s: number, e?: number) => Range, list: CompletionList): void {
    const r = range(ctx.replaceStart);
    const lead = ctx.needsSpace ? ' ' : '';
    for (const [d, ds] of Object.entries(a.section('datasets'))) {
      const p = ds && typeof ds === 'object' ? (ds as { path?: unknown }).path : undefined;
      const expr = `\${datasets.${d}.path}`;
      list.items.push({ label: expr, kind: CompletionItemKind.File, detail: typeof p === 'string' ? p : 'dataset', filterText: `${ctx.prefix.startsWith('$') ? expr : typeof p === 'string' ? p : d}`, sortText: '1', textEdit: { range: r, newText: lead + (ctx.flowItem ? `"${expr}"` : expr) } });
    }
    const steps = a.section('steps');
    let count = 0;
    for (const s of Object.keys(steps)) {
      if (s === self) continue;
      for (const o of outsOf(a.entry('steps', s))) {
        if (ctx.listItems.includes(o) || ++count > MAX_ITEMS) continue;
        list.items.push({ label: o, kind: CompletionItemKind.Reference, detail: `output of step "${s}"`, sortText: '2', textEdit: { range: r, newText: lead + o } });
      }
    }
    if (count > MAX_ITEMS) list.isIncomplete = true;
  }

  /** Files and folders relative to the manifest folder, one path segment at a time. */
  private filePaths(a: Analysis, ctx: CursorContext, offset: number, range: (s: number, e?: number) => Range, list: CompletionList, foldersOnly: boolean): void {
    const dir = a.dir;
    if (!dir) return;
    const text = a.text;
    let ts = offset;
    while (ts > 0 && /[^\s'"[\],{}:]/.test(text[ts - 1])) ts--;
    const token = text.slice(ts, offset);
    if (token.includes('${')) return;
    const slash = token.lastIndexOf('/');
    const folderPart = slash === -1 ? '' : token.slice(0, slash + 1);
    const segStart = ts + folderPart.length;
    let segEnd = offset;
    while (segEnd < text.length && /[^\s'"[\],{}/]/.test(text[segEnd])) segEnd++;
    const abs = path.resolve(dir, folderPart || '.');
    if (!abs.startsWith(dir) && !folderPart.startsWith('..')) return;
    const typedSeg = token.slice(folderPart.length);
    const r = range(segStart, segEnd);
    const lead = ctx.needsSpace && segStart === offset ? ' ' : '';
    for (const e of this.files.list(abs)) {
      if (e.name.startsWith('.') && !typedSeg.startsWith('.')) continue;
      if (e.name === 'node_modules' || (foldersOnly && !e.dir)) continue;
      list.items.push({
        label: e.dir ? `${e.name}/` : e.name,
        kind: e.dir ? CompletionItemKind.Folder : CompletionItemKind.File,
        detail: folderPart + e.name,
        sortText: `${e.dir ? 0 : 1}${e.name}`,
        textEdit: { range: r, newText: lead + (e.dir ? `${e.name}/` : e.name) },
        ...(e.dir ? { command: { title: 'Suggest', command: 'editor.action.triggerSuggest' } } : {}),
      });
    }
  }
}

const FLOW_LISTS = new Set(['needs', 'params', 'logs_metrics', 'not_null', 'column_exists', 'values', 'choice']);

function isArrayAt(p: (string | number)[]): boolean {
  return schemaAt(p).some((n) => typesOf(n).includes('array'));
}

/** The text inserted for a key: its colon and a value placeholder shaped by the schema. */
function keySnippet(name: string, node: SchemaNode, unit: string): string {
  const types = typesOf(node);
  const values = enumValues(node);
  if (values.length && values.length <= 12 && types.every((t) => t !== 'object' && t !== 'array')) {
    return `${name}: \${1|${values.map((v) => String(v.value).replace(/[,|\\]/g, (c) => `\\${c}`)).join(',')}|}`;
  }
  if (types.length === 1 && types[0] === 'object') return `${name}:\n${unit}$0`;
  if (types.includes('array') && !types.includes('string')) {
    // Lists of names read best inline; lists of paths or objects one per line.
    return FLOW_LISTS.has(name) ? `${name}: [$1]` : `${name}:\n${unit}- $0`;
  }
  return `${name}: $0`;
}

