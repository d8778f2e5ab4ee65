/**
 * The page's side of the message channel: typed postMessage to the extension, typed message
 * listener, persisted view state, and reporting of page errors and CSP violations to the host.
 */

interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export class Host<ToView extends { type: string }, FromView extends { type: string }, S = unknown> {
  private readonly api = acquireVsCodeApi<S>();
  /** CSP violations seen by this page, reported in `getState` answers. */
  readonly cspViolations: string[] = [];

  constructor(onMessage: (m: ToView) => void) {
    window.addEventListener('message', (e: MessageEvent<ToView>) => {
      const m = e.data;
      if (!m || typeof m.type !== 'string') return;
      try {
        onMessage(m);
      } catch (err) {
        this.error(err);
      }
    });
    document.addEventListener('securitypolicyviolation', (e) => {
      const what = `CSP blocked ${e.blockedURI || 'inline'} (${e.violatedDirective})`;
      this.cspViolations.push(what);
      this.post({ type: 'log', level: 'error', message: what } as unknown as FromView);
    });
    window.addEventListener('error', (e) => this.error(e.error ?? e.message));
    window.addEventListener('unhandledrejection', (e) => this.error(e.reason));
  }

  post(message: FromView): void {
    this.api.postMessage(message);
  }

  error(err: unknown): void {
    const message = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    this.post({ type: 'log', level: 'error', message } as unknown as FromView);
  }

  get state(): S | undefined {
    return this.api.getState();
  }

  set state(s: S) {
    this.api.setState(s);
  }
}
