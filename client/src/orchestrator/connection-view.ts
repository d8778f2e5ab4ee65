import type * as vscode from 'vscode';
import type { DaemonEvent } from '../../../protocol/api';
import type { OrchestratorConnection } from './connection';

/**
 * What every capability's view of the daemon connection shares: the event stream, the
 * connect/disconnect signal, whether it is up and which workspace it serves. Subclasses add
 * their own reads and actions over `conn`.
 */
export abstract class ConnectionView {
  readonly onEvent: vscode.Event<DaemonEvent>;
  readonly onDidChangeState: vscode.Event<void>;

  constructor(protected readonly conn: OrchestratorConnection) {
    this.onEvent = conn.onEvent;
    this.onDidChangeState = conn.onDidChangeState;
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  get workspace(): string {
    return this.conn.workspace;
  }
}
