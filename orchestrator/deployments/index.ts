/** Deployments: desired state, model server processes, rollouts (see manager.ts). */
export { DeploymentManager, CANARY_POLICY, ALIAS_FOLLOW, type DeploymentManagerDeps } from './manager';
export { deploymentRoutes } from './routes';
export { deploymentSpecs, deploymentSpec, type DeploymentSpec } from './spec';
export { readState, persistedNames, type DeploymentState } from './state';
