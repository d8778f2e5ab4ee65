/** The model registry and its governance: versions, aliases, gates, approvals, tokens, audit log. */
export { ModelRegistry, type RegisterRequest, type RegistryDeps } from './registry';
export { openRegistryStore, registryFiles, SqliteRegistryStore } from './sqlite-registry-store';
export type { RegistryStore, RegistryTx } from './registry-store';
export { parseModelRef, parseAliasRef, parseVersion, formatRef, MODELS_SCHEME, type ModelRef } from './refs';
export { onnxSignature, formatTensor, NotOnnxError } from './onnx-signature';
export { evaluateGates, gateTable, gateError } from './gates';
export { holderStack, planRollback } from './alias-history';
export { verifyChain, entryHash, chainEntry } from './audit-chain';
export { OWNER, roleAllows, requireRole, isRole } from './roles';
export { registryRoutes } from './routes';
export { generateCard, signatureLine, gateText } from './card';
export { RegistryClient, type RegistryReads } from './client';
