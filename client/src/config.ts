import * as vscode from 'vscode';

/** Every `mlops.*` setting, read through one typed place. Keys match package.json `contributes.configuration`. */
export class Config {
  private get section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('mlops');
  }

  /** Independent steps the daemon runs at once (passed to it when the extension starts it). */
  get maxParallel(): number {
    return this.section.get<number>('orchestrator.maxParallel', 2);
  }

  get maxProblems(): number {
    return this.section.get<number>('validation.maxProblems', 1000);
  }
}

export const config = new Config();
