/**
 * Manifest checks of a deployment's `monitor.alerts` that the schema cannot express: each
 * `when` parses (the message says what would be right, on the `when` value itself). A webhook
 * rule without a URL is the schema's business. Called from the language server's semantic check.
 */
import type { ManifestDiagnostic } from '../../protocol/diagnostics';
import { isObj } from '../manifest/manifest-view';
import type { ParsedManifest } from '../manifest/parsed-manifest';
import { parseCondition } from './alert-rules';

export function checkAlertRules(parsed: ParsedManifest, deployment: string, dep: Record<string, unknown>, out: ManifestDiagnostic[]): void {
  const monitor = dep.monitor;
  if (!isObj(monitor) || !Array.isArray(monitor.alerts)) return;
  monitor.alerts.forEach((rule: unknown, i: number) => {
    if (!isObj(rule)) return;
    const at = ['deployments', deployment, 'monitor', 'alerts', i];
    if (typeof rule.when === 'string') {
      const r = parseCondition(rule.when);
      if (!r.ok) out.push({ severity: 'error', code: 'schema', message: `Alert condition "${rule.when}": ${r.message}`, ...parsed.valueSpan([...at, 'when']) });
    }
  });
}
