import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ParsedManifest } from '../../../orchestrator/manifest';
import { ManifestIndex } from '../../../orchestrator/manifest/symbols';

type Obj = Record<string, unknown>;

/**
 * One version of an open manifest as the request handlers see it: the text, its parse (shared
 * with validation through the parser's per-version memo), and the name index built on demand.
 */
export class Analysis {
  private idx?: ManifestIndex;
  private parsedValue?: ParsedManifest;
  readonly text: string;

  /**
   * `parse` is called only when a request needs the parsed document: completing a key needs
   * just the text and the schema, so it never waits for a parse right after an edit.
   */
  constructor(
    readonly doc: TextDocument,
    private readonly parse: () => ParsedManifest,
  ) {
    this.text = doc.getText();
  }

  get parsed(): ParsedManifest {
    this.parsedValue ??= this.parse();
    return this.parsedValue;
  }

  get root(): Obj {
    const v = this.parsed.value;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
  }

  /** A section of the manifest as a map (empty when missing or of the wrong shape). */
  section(name: string): Obj {
    const v = this.root[name];
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
  }

  entry(section: string, name: string): Obj | undefined {
    const v = this.section(section)[name];
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
  }

  index(): ManifestIndex {
    this.idx ??= ManifestIndex.of(this.parsed);
    return this.idx;
  }

  /** The folder relative paths in the manifest start from (undefined for unsaved documents). */
  get dir(): string | undefined {
    return manifestDir(this.doc.uri);
  }
}

export function manifestDir(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return path.dirname(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

/** Outputs of a step as written (strings or `{path}` objects). */
export function outsOf(step: Obj | undefined): string[] {
  const outs = step?.outs;
  if (!Array.isArray(outs)) return [];
  return outs.flatMap((o) => (typeof o === 'string' ? [o] : o && typeof o === 'object' && typeof (o as Obj).path === 'string' ? [(o as Obj).path as string] : []));
}

/** A list field that may be written as one string. */
export function listOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function short(s: string, max = 80): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}
