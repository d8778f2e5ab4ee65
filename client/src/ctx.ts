import * as vscode from 'vscode';

/** Owns every registration of the extension so one dispose() undoes them all. */
export class Ctx implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {}

  push<T extends vscode.Disposable>(d: T): T {
    this.disposables.push(d);
    return d;
  }

  registerCommand(id: string, fn: (...args: never[]) => unknown): void {
    this.push(vscode.commands.registerCommand(id, fn as (...args: unknown[]) => unknown));
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
