/** Manifest understanding shared by the language server, the CLI and the orchestrator. */
export { LineIndex, type Position } from './line-index';
export { ManifestParser, CancelledError, type Cancellation } from './parse';
export { ParsedManifest, type ValuePath, type Span } from './parsed-manifest';
export { validateManifest, validateManifestSync, type ValidateOptions, type ValidationResult } from './validate';
export { buildDag, findCycles, topoOrder, type DagEdge } from './dag';
export { resolveInterpolation, findInterpolations, type InterpolationScope } from './interpolation';
export { suggest, editDistance } from './suggest';
