import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Webview panels load only their bundle (dist/media) and stylesheets (media). */
export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'media'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

/** The Content-Security-Policy of every webview: scripts only by nonce, no eval, styles from files. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The page shell: CSP, stylesheets from media/, and the view's bundle from dist/media/ (built
 * from media/src/<script>.ts). Everything else is drawn by the script.
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, opts: { title: string; script: string; styles: string[] }): string {
  const nonce = makeNonce();
  const css = opts.styles.map((s) => `<link rel="stylesheet" href="${webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', s))}">`).join('\n    ');
  const js = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'media', `${opts.script}.js`));
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview.cspSource, nonce)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${css}
    <title>${escapeHtml(opts.title)}</title>
  </head>
  <body>
    <main id="app" aria-live="polite"><p class="status">Loading…</p></main>
    <script nonce="${nonce}" src="${js}"></script>
  </body>
</html>`;
}
