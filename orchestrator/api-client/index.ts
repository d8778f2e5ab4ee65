/** Typed HTTP client of the orchestrator daemon (protocol/api.ts), shared by the CLI and the extension. */
export { DaemonClient, type DaemonClientOptions, type Endpoint, type EventStream, type Req, type Res } from './client';
export { SseParser } from './sse';
