/** Live monitoring of deployments: drift of logged requests, alerts, feedback and A/B analysis. */
export { AlertEngine, type AlertSinks } from './alert-engine';
export { ALERT_METRICS, parseCondition } from './alert-rules';
export { deploymentDrift, deploymentPaths, driftValues, latestReport, monitorOf, referencePath } from './deployment-drift';
export { joinFeedback, readFeedback, rowIds } from './feedback-join';
export { monitorStatus } from './monitor-status';
export { MonitorService, type DeploymentsPort, type MonitorServiceDeps } from './monitor-service';
export { parseDuration, readRequestLog, type LogWindow } from './request-log';
export { postWebhook, signBody, SIGNATURE_HEADER, webhookUrlProblem } from './webhook';
export { monitorRoutes } from './routes';
