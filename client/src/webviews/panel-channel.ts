import * as vscode from 'vscode';
import { log } from '../log';

type Msg = { type: string };
type StateAnswer<S> = { type: 'state'; requestId: number; state: S };
type LogMsg = { type: 'log'; level: 'warn' | 'error'; message: string };

/**
 * Covers the page's start (a webview can take seconds on a busy machine) and its answer; a
 * page being rebuilt (hidden → shown) can miss a request, and callers retry after this.
 */
const STATE_TIMEOUT_MS = 20_000;

/**
 * The host's typed end of a webview's message channel. Messages wait until the page says
 * `ready` (a page that is loading, or was hidden and rebuilt, would drop them), `state`
 * answers are matched to their `getState` by id, and `log` messages go to the extension log.
 */
export class PanelChannel<ToView extends Msg, FromView extends Msg, S> implements vscode.Disposable {
  private isReady = false;
  private readyWaiters: (() => void)[] = [];
  private readonly pending = new Map<number, { resolve: (s: S) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly name: string,
    /** Every other message of the view; `ready` is passed on too (re-send state then). */
    onMessage: (m: FromView) => void,
  ) {
    this.subs.push(panel.webview.onDidReceiveMessage((raw: FromView) => {
      if (!raw || typeof raw.type !== 'string') return;
      if (raw.type === 'ready') {
        this.isReady = true;
        for (const w of this.readyWaiters.splice(0)) w();
      } else if (raw.type === 'state') {
        const m = raw as unknown as StateAnswer<S>;
        const p = this.pending.get(m.requestId);
        if (p) {
          clearTimeout(p.timer);
          this.pending.delete(m.requestId);
          p.resolve(m.state);
        }
        return;
      } else if (raw.type === 'log') {
        const m = raw as unknown as LogMsg;
        log()[m.level](`${this.name} webview: ${m.message}`);
        return;
      }
      onMessage(raw);
    }));
    // A hidden panel's page is destroyed; it says `ready` again when it is rebuilt.
    this.subs.push(panel.onDidChangeViewState(() => {
      if (!panel.visible) this.isReady = false;
    }));
  }

  get ready(): boolean {
    return this.isReady;
  }

  whenReady(): Promise<void> {
    return this.isReady ? Promise.resolve() : new Promise((r) => this.readyWaiters.push(r));
  }

  /** Posts now if the page is up; otherwise drops it (the page asks for everything on `ready`). */
  post(m: ToView): void {
    if (this.isReady) void this.panel.webview.postMessage(m);
  }

  /**
   * Asks the page what it has rendered (tests, diagnostics). Rejects after STATE_TIMEOUT_MS,
   * also when the page is not up (a hidden panel's page is gone until it is shown again).
   */
  async requestState(): Promise<S> {
    const requestId = this.nextId++;
    return new Promise<S>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`${this.name} webview did not answer getState within ${STATE_TIMEOUT_MS} ms${this.isReady ? '' : ' (its page is not up: is the panel visible?)'}`));
      }, STATE_TIMEOUT_MS);
      this.pending.set(requestId, { resolve, reject, timer });
      void this.whenReady().then(() => {
        if (this.pending.has(requestId)) void this.panel.webview.postMessage({ type: 'getState', requestId } as unknown as ToView);
      });
    });
  }

  dispose(): void {
    for (const s of this.subs.splice(0)) s.dispose();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${this.name} webview closed`));
    }
    this.pending.clear();
  }
}
