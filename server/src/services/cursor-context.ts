/**
 * What the user is typing at a cursor, read from the text around it rather than from the
 * parsed YAML: while a key or value is half-typed the document often does not parse into the
 * shape it will have, but the indentation already says where the cursor is.
 */
export interface CursorContext {
  /** Value path of the mapping or sequence being filled in (sequence items appear as 0). */
  path: (string | number)[];
  /**
   * key: a key of the mapping at `path`;
   * value: the value of `key` (a scalar, or an item of an inline `[…]` list);
   * item: an item of the block sequence at `path`.
   */
  kind: 'key' | 'value' | 'item';
  key?: string;
  /** Inside an inline `[…]` after `key:`. */
  flowItem?: boolean;
  /** What is typed of the current word, and the offsets it spans (extended past the cursor to the word's end). */
  prefix: string;
  replaceStart: number;
  replaceEnd: number;
  /** The value typed so far on this line (for `${` detection and file paths). */
  valueBefore: string;
  /** Column of the key (or item content) being typed. */
  column: number;
  /** Spaces per indentation level used by the document around the cursor. */
  indentUnit: number;
  /** Keys already present beside the cursor in the same mapping. */
  siblings: Set<string>;
  /** Items already present in the list being filled in (inline or block). */
  listItems: string[];
  /** True right after `key:` with no space yet: inserted values need a leading space. */
  needsSpace: boolean;
}

interface LineInfo {
  start: number;
  end: number;
  blank: boolean;
  indent: number;
  /** Column after any `- ` markers. */
  content: number;
  /** Columns of the `-` markers on the line. */
  dashes: number[];
  key?: string;
  /** Text after `key:` (trimmed), when the line has a key. */
  after?: string;
}

const KEY = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#'"{[\]}&*!|>%@`,-][^#]*?|-[^\s#][^#]*?)\s*:(?:\s+(.*))?$/;

function unquote(k: string): string {
  return (k.startsWith('"') && k.endsWith('"')) || (k.startsWith("'") && k.endsWith("'")) ? k.slice(1, -1) : k;
}

function lineInfo(text: string, start: number, end: number): LineInfo {
  let i = start;
  while (i < end && text.charCodeAt(i) === 32) i++;
  const indent = i - start;
  const c = text.charCodeAt(i);
  if (i >= end || c === 35 || c === 13) return { start, end, blank: true, indent, content: indent, dashes: [] };
  const dashes: number[] = [];
  while (text.charCodeAt(i) === 45 /* - */ && (i + 1 >= end || text.charCodeAt(i + 1) === 32 || text.charCodeAt(i + 1) === 13)) {
    dashes.push(i - start);
    i++;
    while (i < end && text.charCodeAt(i) === 32) i++;
  }
  const rest = text.slice(i, Math.min(end, i + 400)).replace(/\r$/, '');
  const m = KEY.exec(rest.replace(/\s+#.*$/, ''));
  return { start, end, blank: false, indent, content: i - start, dashes, ...(m ? { key: unquote(m[1].trim()), after: (m[2] ?? '').trim() } : {}) };
}

function lineBounds(text: string, offset: number): { start: number; end: number } {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  let end = text.indexOf('\n', offset);
  if (end === -1) end = text.length;
  return { start, end };
}

/**
 * Lines above `start`, nearest first. Lines indented deeper than `maxIndent()` are skipped
 * without being read: finding the `steps:` above step 4000 passes 40 000 lines.
 */
function* linesAbove(text: string, start: number, maxIndent: () => number = () => Infinity): Generator<LineInfo> {
  let end = start - 1;
  while (end >= 0) {
    const s = text.lastIndexOf('\n', end - 1) + 1;
    const limit = maxIndent();
    let i = s;
    while (i < end && i - s <= limit && text.charCodeAt(i) === 32) i++;
    if (i - s <= limit) yield lineInfo(text, s, end);
    end = s - 1;
  }
}

function* linesBelow(text: string, end: number, maxIndent = Infinity): Generator<LineInfo> {
  let s = end + 1;
  while (s <= text.length && end < text.length) {
    let e = text.indexOf('\n', s);
    if (e === -1) e = text.length;
    let i = s;
    while (i < e && i - s <= maxIndent && text.charCodeAt(i) === 32) i++;
    if (i - s <= maxIndent) yield lineInfo(text, s, e);
    if (e === text.length) return;
    s = e + 1;
  }
}

const WORD = /[A-Za-z0-9_.\-/${}]/;

export function cursorContext(text: string, offset: number): CursorContext {
  const { start: ls, end: le } = lineBounds(text, offset);
  const before = text.slice(ls, offset);
  const here = lineInfo(text, ls, le);
  // The word under the cursor (what a completion replaces).
  let ws = offset;
  while (ws > ls && WORD.test(text[ws - 1]) && !(text[ws - 1] === '{' && text[ws - 2] === '$') && text[ws - 1] !== '$') ws--;
  let we = offset;
  while (we < le && /[A-Za-z0-9_.\-]/.test(text[we])) we++;

  const contentCol = Math.min(here.content, before.length);
  const typed = before.slice(contentCol);
  const km = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#'"{[\]}&*!|>%@`,-][^:#]*?)\s*:(\s*)(.*)$/.exec(typed);
  let kind: CursorContext['kind'];
  let key: string | undefined;
  let valueBefore = '';
  let flowItem = false;
  let needsSpace = false;
  const listItems: string[] = [];
  if (km) {
    kind = 'value';
    key = unquote(km[1].trim());
    valueBefore = km[3];
    needsSpace = km[2] === '' && km[3] === '';
    const open = valueBefore.lastIndexOf('[');
    if (valueBefore.startsWith('[') && valueBefore.indexOf(']', open) === -1) {
      flowItem = true;
      const rest = text.slice(ls + contentCol + typed.length - valueBefore.length, le);
      const close = rest.indexOf(']');
      for (const item of rest.slice(1, close === -1 ? undefined : close).split(',')) {
        const t = unquote(item.trim());
        if (t) listItems.push(t);
      }
    }
  } else if (here.dashes.length > 0 && here.content <= before.length) {
    kind = 'item';
    valueBefore = typed;
  } else {
    kind = 'key';
  }

  // Where the thing being typed sits: a key's column, or the column of a list item's content.
  const column = kind === 'item' ? here.dashes[here.dashes.length - 1] : contentCol;
  const path: (string | number)[] = [];
  let indentUnit = 0;
  // A key typed after `- ` is inside a list item's mapping: that item is a level of its own.
  let col = column;
  if (kind !== 'item' && here.dashes.length > 0 && here.content === column) {
    path.push(0);
    col = here.dashes[here.dashes.length - 1];
  }
  let siblingsFrom: LineInfo | undefined;
  for (const l of linesAbove(text, ls, () => col)) {
    if (l.blank || col === 0) {
      if (col === 0) break;
      continue;
    }
    // `- key: …` whose key sits at our column: we are in that same list-item mapping.
    if (l.dashes.length && l.content === col && kind !== 'item' && path[path.length - 1] !== 0) {
      siblingsFrom ??= l;
      path.push(0);
      col = l.dashes[l.dashes.length - 1];
      continue;
    }
    // An earlier item of the same list.
    if (kind === 'item' && l.dashes.length && l.dashes[l.dashes.length - 1] === col && path.length === 0) {
      if (!l.key && l.content < l.end - l.start) listItems.push(unquote(text.slice(l.start + l.content, l.end).replace(/\s+#.*$/, '').trim()));
      continue;
    }
    const keyCol = l.content;
    const isParent = l.key !== undefined && (keyCol < col || (kind === 'item' && path.length === 0 && keyCol === col && !l.after));
    if (isParent) {
      if (!indentUnit && col > keyCol) indentUnit = col - keyCol;
      path.push(l.key!);
      col = keyCol;
      if (l.dashes.length) {
        path.push(0);
        col = l.dashes[l.dashes.length - 1];
      }
      continue;
    }
    if (l.indent < col && !l.key) break; // a scalar line or something unreadable: give up on deeper levels
  }
  path.reverse();
  if (kind === 'item') {
    // The list items after the cursor count too.
    for (const l of linesBelow(text, le)) {
      if (l.blank) continue;
      if (l.indent < column || (l.indent === column && !l.dashes.length)) break;
      if (l.dashes.length && l.dashes[0] === column && !l.key) listItems.push(unquote(text.slice(l.start + l.content, l.end).replace(/\s+#.*$/, '').trim()));
    }
  }

  return {
    path: kind === 'item' ? [...path, 0] : path,
    kind,
    ...(key !== undefined ? { key } : {}),
    ...(flowItem ? { flowItem } : {}),
    prefix: text.slice(ws, offset),
    replaceStart: ws,
    replaceEnd: we,
    valueBefore,
    column,
    indentUnit: indentUnit || 2,
    siblings: kind === 'key' ? siblingKeys(text, ls, le, column, siblingsFrom) : new Set(),
    listItems,
    needsSpace,
  };
}

/** Keys at `column` in the mapping around the cursor line. */
function siblingKeys(text: string, ls: number, le: number, column: number, itemStart: LineInfo | undefined): Set<string> {
  const keys = new Set<string>();
  if (itemStart?.key) keys.add(itemStart.key);
  if (!itemStart) {
    for (const l of linesAbove(text, ls, () => column)) {
      if (l.blank) continue;
      if (l.indent < column) {
        if (l.dashes.length && l.content === column && l.key) keys.add(l.key);
        break;
      }
      if (l.content === column && !l.dashes.length && l.key) keys.add(l.key);
    }
  }
  for (const l of linesBelow(text, le, column)) {
    if (l.blank) continue;
    if (l.indent < column || l.dashes.length) break;
    if (l.content === column && l.key) keys.add(l.key);
  }
  return keys;
}
