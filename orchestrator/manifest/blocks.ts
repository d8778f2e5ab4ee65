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

/**
 * Line table in typed arrays: a 5000-step manifest has ~50k lines, and one object per line
 * per keystroke was most of the split's cost (allocation and GC).
 */
interface Lines {
  count: number;
  start: Int32Array;
  /** Exclusive, before the line break. */
  end: Int32Array;
  indent: Int32Array;
  /** 1 when empty or comment only. */
  blank: Uint8Array;
}

function scanLines(text: string): Lines {
  let cap = 1024;
  let start = new Int32Array(cap);
  let end = new Int32Array(cap);
  let indent = new Int32Array(cap);
  let blank = new Uint8Array(cap);
  let n = 0;
  let s = 0;
  while (s <= text.length) {
    let nl = text.indexOf('\n', s);
    if (nl === -1) nl = text.length;
    let i = 0;
    while (s + i < nl && text.charCodeAt(s + i) === 32) i++;
    const c = text.charCodeAt(s + i);
    if (n === cap) {
      cap *= 2;
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(cap);
        b.set(a);
        return b;
      };
      start = grow(start, (k) => new Int32Array(k));
      end = grow(end, (k) => new Int32Array(k));
      indent = grow(indent, (k) => new Int32Array(k));
      blank = grow(blank, (k) => new Uint8Array(k));
    }
    start[n] = s;
    end[n] = nl;
    indent[n] = i;
    blank[n] = s + i >= nl || c === 35 /* # */ || (c === 13 && s + i + 1 >= nl) ? 1 : 0;
    n++;
    if (nl === text.length) break;
    s = nl + 1;
  }
  return { count: n, start, end, indent, blank };
}

function unquote(key: string): string {
  const k = key.trim();
  return (k.startsWith('"') && k.endsWith('"')) || (k.startsWith("'") && k.endsWith("'")) ? k.slice(1, -1) : k;
}

export function splitBlocks(text: string): Split {
  if (text.includes('\t')) return { kind: 'whole', reason: 'tabs' };
  const lines = scanLines(text);
  const tops: { line: number; key: string }[] = [];
  for (let i = 0; i < lines.count; i++) {
    if (lines.blank[i] || lines.indent[i] > 0) continue;
    const s = text.slice(lines.start[i], Math.min(lines.end[i], lines.start[i] + 200));
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
    const last = t + 1 < tops.length ? tops[t + 1].line - 1 : lines.count - 1;
    const start = lines.start[first];
    const end = last + 1 < lines.count ? lines.start[last + 1] : text.length;
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
function splitEntries(text: string, lines: Lines, headerLine: number, lastLine: number, section: string): Block[] | undefined {
  const afterColon = text.slice(lines.start[headerLine], lines.end[headerLine]).replace(TOP_KEY, '').trim();
  if (afterColon !== '' && !afterColon.startsWith('#')) return undefined; // inline value: `steps: {}`
  let childIndent = -1;
  const entries: Block[] = [];
  for (let i = headerLine + 1; i <= lastLine; i++) {
    if (lines.blank[i]) continue;
    const indent = lines.indent[i];
    if (childIndent === -1) childIndent = indent;
    if (indent < childIndent) return undefined; // irregular indentation: let the whole-text parse report it
    if (indent > childIndent) continue;
    const start = lines.start[i];
    const s = text.slice(start + indent, Math.min(lines.end[i], start + indent + 300));
    const m = ENTRY_KEY.exec(s);
    if (!m) return undefined; // a sequence or flow value: not name-keyed entries
    if (entries.length > 0) entries[entries.length - 1].end = start;
    entries.push({ start, end: lines.end[i], section, entry: unquote(m[1]) });
  }
  return entries;
}
