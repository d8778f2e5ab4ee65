import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { MlopsApi } from '../../client/src/extension';

export const EXT_ID = 'mlops-workbench.mlops-workbench';

/** Polls a condition (UI state has no event for everything); never a fixed sleep. */
export async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function activateExtension(): Promise<MlopsApi> {
  const ext = vscode.extensions.getExtension<MlopsApi>(EXT_ID);
  if (!ext) throw new Error(`extension ${EXT_ID} is not loaded`);
  return ext.activate();
}

export function workspaceUri(...segments: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, ...segments);
}

export function mlopsDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'mlops');
}

/** Adds a line to the streamed test log (visible in CI output). */
export function note(line: string): void {
  if (process.env.VSCODE_TEST_LOG) fs.appendFileSync(process.env.VSCODE_TEST_LOG, `      (${line})\n`);
}

/** Asks the runner for a screenshot of the workbench as it is now. */
export async function screenshot(name: string): Promise<void> {
  const shot = process.env.VSCODE_TEST_SCREENSHOT;
  if (!shot) return;
  const target = shot.replace(/workbench\.png$/, `${name}.png`);
  fs.rmSync(target, { force: true }); // so the wait below sees the new picture, not an old one
  console.log(`[[screenshot-request]] ${target}`);
  await waitFor(`screenshot ${name}`, () => (fs.existsSync(target) ? true : undefined), 15_000).catch(() => undefined);
}
