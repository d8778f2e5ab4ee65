/** CI integration: the workflow `mlops ci init` writes (GitHub Actions). */
export { ciPlan, CLI_PACKAGE, type CiPlan, type ModelPlan, type PlanOptions } from './ci-plan';
export { githubWorkflow, shellQuote, workflowYaml } from './github-workflow';
