/**
 * Alert states kept across daemon restarts in `.mlops/deployments/<name>/monitor/alerts.json`:
 * a rule that was firing when the daemon stopped is still firing when it starts again, so the
 * next breached check does not notify a second time (and a check that is fine clears it).
 * Rules are matched by name and condition; a rule whose `when` changed starts `ok`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AlertStatus } from '../../protocol/monitoring';
import { writeJsonAtomic } from '../daemon/daemon-info';
import { deploymentPaths } from './deployment-drift';

interface SavedAlerts {
  savedAt: number;
  rules: AlertStatus[];
}

export function alertStateFile(workspace: string, deployment: string): string {
  return path.join(deploymentPaths(workspace, deployment).dir, 'monitor', 'alerts.json');
}

/** The saved states; none when there is no file or it cannot be read (a fresh start, not an error). */
export function loadAlertStates(file: string): AlertStatus[] {
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<SavedAlerts>;
    return Array.isArray(saved.rules) ? saved.rules.filter((r) => typeof r?.rule === 'string' && typeof r.when === 'string') : [];
  } catch {
    return [];
  }
}

export function saveAlertStates(file: string, rules: AlertStatus[], now = Date.now()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeJsonAtomic(file, { savedAt: now, rules } satisfies SavedAlerts);
}
