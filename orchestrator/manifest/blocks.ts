/**
 * Splits a manifest into independently parseable blocks so that a large file is parsed in
 * pieces (each cached by its text) instead of as one YAML document: the `yaml` package is
 * superlinear on big documents (~270 ms for 1000 steps, ~30 s for 5 MB here), while the
 * pieces cost linear time and an edit re-parses only the piece it touched.
 *
 * A block is a top-level key with its value. The entries of the name-keyed sections
 * (steps, datasets, …) are split again, one block per entry. Whenever the text uses YAML
 * that could tie blocks together (anchors and aliases, directives, several documents, flow
 * collections at the top) the splitter gives up and the caller parses the whole text.
 */

/** Top-level sections whose value is a map of user-named entries. */
export const ENTRY_SECTIONS: ReadonlySet<string> = new Set(['params', 'datasets', 'steps', 'sweeps', 'models', 'deployments']);

export interface Block {
  /** Offset of the block's first character in the whole text. */
  start: number;
  end: number;
  /** The top-level key this block belongs to. */
  section: string;
  /** For an entry block: the entry's name as written (unquoted). */
  entry?: string;
  /** True for the `steps:` header line of a split section (its value lives in entry blocks). */
  header?: boolean;
}

export type Split = { kind: 'blocks'; blocks: Block[] } | { kind: 'whole'; reason: string };

const TOP_KEY = /^([A-Za-z_][\w.-]*|"[^"]*"|'[^']*')\s*:(?:\s|$)/;
const ENTRY_KEY = /^([^\s#'"{[\]}&*!|>%@`-][^:#]*?|"[^"]*"|'[^']*')\s*:(?:\s|$)/;
// An alias (`*name`) or anchor (`&name`) token: these link nodes across blocks.
const ANCHOR_OR_ALIAS = /(?:^|[\s[{,])[&*][^\s,[\]{}]+/;

interface Line {
  start: number;
  end: number; // exclusive, before the line break
  indent: number;
  blank: boolean; // empty or comment only
}

function scanLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let nl = text.indexOf('\n', start);
    if (nl === -1) nl = text.length;
    let indent = 0;
    while (start + indent < nl && text.charCodeAt(start + indent) === 32) indent++;
    const c = text.charCodeAt(start + indent);
    const blank = start + indent >= nl || c === 35 /* # */ || (c === 13 && start + indent + 1 >= nl);
    lines.push({ start, end: nl, indent, blank });
    if (nl === text.length) break;
    start = nl + 1;
  }
  return lines;
}

function unquote(key: string): string {
  const k = key.trim();
  return (k.startsWith('"') && k.endsWith('"')) || (k.startsWith("'") && k.endsWith("'")) ? k.slice(1, -1) : k;
}

export function splitBlocks(text: string): Split {
  if (text.includes('\t')) return { kind: 'whole', reason: 'tabs' };
  const lines = scanLines(text);
  const tops: { line: number; key: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.blank || l.indent > 0) continue;
    const s = text.slice(l.start, Math.min(l.end, l.start + 200));
    if (s.startsWith('---') || s.startsWith('...') || s.startsWith('%')) return { kind: 'whole', reason: 'document markers' };
    const m = TOP_KEY.exec(s);
    if (!m) return { kind: 'whole', reason: 'not a block mapping at the top' };
    tops.push({ line: i, key: unquote(m[1]) });
  }
  if (tops.length === 0) return { kind: 'whole', reason: 'no keys' };
  if (ANCHOR_OR_ALIAS.test(text)) return { kind: 'whole', reason: 'anchors or aliases' };

  const blocks: Block[] = [];
  // Leading comments and blank lines belong to the first block.
  for (let t = 0; t < tops.length; t++) {
    const first = t === 0 ? 0 : tops[t].line;
    const last = t + 1 < tops.length ? tops[t + 1].line - 1 : lines.length - 1;
    const start = lines[first].start;
    const end = last + 1 < lines.length ? lines[last + 1].start : text.length;
    const key = tops[t].key;
    const entries = ENTRY_SECTIONS.has(key) ? splitEntries(text, lines, tops[t].line, last, key) : undefined;
    if (!entries) {
      blocks.push({ start, end, section: key });
      continue;
    }
    const headerEnd = entries.length > 0 ? entries[0].start : end;
    blocks.push({ start, end: headerEnd, section: key, header: true });
    if (entries.length > 0) entries[entries.length - 1].end = end;
    blocks.push(...entries);
  }
  return { kind: 'blocks', blocks };
}

/** Entry blocks of a section, or undefined when the section's value is not a plain block map. */
function splitEntries(text: string, lines: Line[], headerLine: number, lastLine: number, section: string): Block[] | undefined {
  const header = lines[headerLine];
  const afterColon = text.slice(header.start, header.end).replace(TOP_KEY, '').trim();
  if (afterColon !== '' && !afterColon.startsWith('#')) return undefined; // inline value: `steps: {}`
  let childIndent = -1;
  const entries: Block[] = [];
  for (let i = headerLine + 1; i <= lastLine; i++) {
    const l = lines[i];
    if (l.blank) continue;
    if (childIndent === -1) childIndent = l.indent;
    if (l.indent < childIndent) return undefined; // irregular indentation: let the whole-text parse report it
    if (l.indent > childIndent) continue;
    const s = text.slice(l.start + l.indent, Math.min(l.end, l.start + l.indent + 300));
    const m = ENTRY_KEY.exec(s);
    if (!m) return undefined; // a sequence or flow value: not name-keyed entries
    if (entries.length > 0) entries[entries.length - 1].end = l.start;
    entries.push({ start: l.start, end: l.end, section, entry: unquote(m[1]) });
  }
  return entries;
}
