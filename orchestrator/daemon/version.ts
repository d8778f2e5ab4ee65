/** The orchestrator's version as daemon.json and `/api/health` report it (kept equal to package.json). */
export const MLOPS_VERSION = '0.1.0';
