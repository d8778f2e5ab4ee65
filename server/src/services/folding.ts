import { FoldingRangeKind, type FoldingRange } from 'vscode-languageserver';

/**
 * Folding by indentation, with runs of comment lines folded on their own. Read from the text
 * (one pass, a stack of open lines), so it works on half-typed YAML and on huge files alike.
 */
export function foldingRanges(text: string): FoldingRange[] {
  const ranges: FoldingRange[] = [];
  const open: { line: number; indent: number }[] = [];
  let lastContent = -1;
  let commentStart = -1;
  let line = 0;
  const close = (indent: number) => {
    while (open.length && open[open.length - 1].indent >= indent) {
      const o = open.pop()!;
      if (lastContent > o.line) ranges.push({ startLine: o.line, endLine: lastContent });
    }
  };
  for (let s = 0; s <= text.length; line++) {
    let e = text.indexOf('\n', s);
    if (e === -1) e = text.length;
    let i = s;
    while (i < e && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    const blank = i >= e || (text.charCodeAt(i) === 13 && i + 1 >= e);
    const comment = !blank && text.charCodeAt(i) === 35;
    if (comment) {
      if (commentStart === -1) commentStart = line;
    } else if (commentStart !== -1) {
      if (line - 1 > commentStart) ranges.push({ startLine: commentStart, endLine: line - 1, kind: FoldingRangeKind.Comment });
      commentStart = -1;
    }
    if (!blank && !comment) {
      // A `- key:` item opens at its dash: the keys below it sit further in.
      const indent = i - s;
      close(indent);
      open.push({ line, indent });
      lastContent = line;
    }
    if (e === text.length) break;
    s = e + 1;
  }
  if (commentStart !== -1 && line > commentStart) ranges.push({ startLine: commentStart, endLine: line, kind: FoldingRangeKind.Comment });
  close(-1);
  return ranges.sort((x, y) => x.startLine - y.startLine);
}
