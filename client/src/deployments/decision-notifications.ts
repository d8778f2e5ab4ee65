import * as vscode from 'vscode';
import type { DaemonEvent } from '../../../protocol/api';
import { decisionMessage } from './deployment-format';

type Decision = Extract<DaemonEvent, { type: 'deployment-decision' }>;

/**
 * A canary the model server promoted or rolled back on its own shows as a notification
 * (`penguins-api: canary v3 rolled back — error rate 0.31 > 0.02`): a rollback as a warning,
 * a promotion as information, each with Open Live Monitor and Show History.
 */
export class DecisionNotifications implements vscode.Disposable {
  /** Messages shown so far, newest last (the host tests read them: toasts cannot be read back). */
  readonly shown: string[] = [];
  /** The ones shown as warnings (rollbacks). */
  readonly warnings: string[] = [];
  private readonly sub: vscode.Disposable;

  constructor(onEvent: vscode.Event<DaemonEvent>) {
    this.sub = onEvent((e) => {
      if (e.type === 'deployment-decision') this.show(e);
    });
  }

  private show(e: Decision): void {
    const text = decisionMessage(e);
    this.shown.push(text);
    if (e.decision === 'rollback') this.warnings.push(text);
    const show = e.decision === 'rollback' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(`MLOps: ${text}`, 'Open Live Monitor', 'Show History').then((b) => {
      if (b === 'Open Live Monitor') void vscode.commands.executeCommand('mlops.openDeploymentMonitor', { name: e.deployment });
      if (b === 'Show History') void vscode.commands.executeCommand('mlops.showDeploymentHistory', { name: e.deployment });
    });
  }

  dispose(): void {
    this.sub.dispose();
  }
}
