/**
 * JUnit XML, the one test-report format every CI system renders (GitHub via test-reporter
 * actions, GitLab `artifacts:reports:junit`, Jenkins, Azure): `mlops validate`, `check`, `gate`
 * and `drift` describe their results as suites of test cases and write them with `--junit FILE`.
 * A failed case carries a one-line `message` (what CI lists) and a body (the detail it expands).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlopsError } from '../../protocol/errors';

export interface JUnitCase {
  /** Dotted group CI systems sort by, e.g. `mlops.gate.penguins-classifier`. */
  classname: string;
  name: string;
  timeMs?: number;
  /** Present when the case failed: `message` is one line, `detail` may span several. */
  failure?: { message: string; detail?: string };
}

export interface JUnitSuite {
  name: string;
  cases: JUnitCase[];
  timeMs?: number;
}

/**
 * Escapes text for an XML attribute or element. Characters XML 1.0 cannot carry at all (most
 * control characters, lone surrogates) become U+FFFD: a report that no parser accepts would hide
 * every result, not just the odd byte in one data value.
 */
export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Newlines in an attribute would be normalised to spaces by parsers; say so explicitly. */
function attr(s: string): string {
  return xmlEscape(s).replace(/\r?\n/g, '&#10;');
}

const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(3);

export function junitXml(title: string, suites: readonly JUnitSuite[]): string {
  const failures = (s: JUnitSuite) => s.cases.filter((c) => c.failure).length;
  const time = (s: JUnitSuite) => s.timeMs ?? s.cases.reduce((t, c) => t + (c.timeMs ?? 0), 0);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = suites.reduce((n, s) => n + s.cases.length, 0);
  const failed = suites.reduce((n, s) => n + failures(s), 0);
  out.push(`<testsuites name="${attr(title)}" tests="${total}" failures="${failed}" errors="0" time="${seconds(suites.reduce((t, s) => t + time(s), 0))}">`);
  for (const s of suites) {
    out.push(`  <testsuite name="${attr(s.name)}" tests="${s.cases.length}" failures="${failures(s)}" errors="0" skipped="0" time="${seconds(time(s))}">`);
    for (const c of s.cases) {
      const open = `    <testcase classname="${attr(c.classname)}" name="${attr(c.name)}" time="${seconds(c.timeMs)}"`;
      if (!c.failure) {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      const body = c.failure.detail ?? c.failure.message;
      out.push(`      <failure message="${attr(c.failure.message)}">${xmlEscape(body)}</failure>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

/** Writes the report for `--junit FILE` (relative to the command's folder), creating folders. */
export function writeJUnit(cwd: string, file: string, xml: string): string {
  const target = path.resolve(cwd, file);
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, xml);
  } catch (e) {
    throw new MlopsError('BAD_REQUEST', `--junit ${file}: cannot write the report: ${(e as Error).message}`);
  }
  return target;
}
