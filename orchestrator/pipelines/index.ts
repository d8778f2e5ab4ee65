/** The pipeline engine: load and validate a manifest, plan a run, execute it, cache its results. */
export { PipelineRunner, type PipelineRunnerOptions, type PipelineListener, type HostedRun, type HostedRunSpec, type SandboxedStepRequest, type SandboxedStepResult } from './runner';
export { loadManifest, type LoadedManifest } from './load';
export { applyParamOverrides, parseParamArgs, paramEnvName } from './params';
export { buildPipeline, type Pipeline } from './pipeline';
export { planSteps, decideStep, type StepFacts, type StepDecision, type OutFact } from './plan';
export { explainChange, fingerprintOf, type FingerprintComponents } from './fingerprint';
export { FileHasher, sha256File, type PathDigest, type HashStats } from './hash-files';
export { ObjectCache } from './cache';
export { execStep, type ExecSpec, type ExecHooks, type ExecResult } from './exec-step';
export { shellQuote } from './step-spec';
export { parseDuration, formatDuration } from './duration';
export { conflictError, recoverStaleRun, type LockInfo } from './run-lock';
