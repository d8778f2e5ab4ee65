/**
 * Custom LSP messages between the extension (client/) and the language server (server/).
 * Each is declared once here; no method string appears anywhere else.
 */
import { RequestType0 } from 'vscode-languageserver-protocol';

/** What the server is doing, for the status bar and for tests. */
export interface ServerStatus {
  version: string;
  /** Open manifests the server tracks. */
  documents: number;
  /** URIs whose validation is running right now. */
  validating: string[];
  /** Milliseconds the last validation of each document took. */
  lastValidationMs: Record<string, number>;
}

/** client → server: report the server's state (answers even while big files are being checked). */
export const ServerStatusRequest = new RequestType0<ServerStatus, void>('mlops/serverStatus');
