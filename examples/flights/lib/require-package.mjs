// Find an npm package for a step that may live anywhere. The sample has no
// node_modules of its own (it must run with no npm install), so when the
// folder is copied out of the workbench repo a plain import of
// onnxruntime-node fails. The orchestrator sets MLOPS_HOME to the workbench
// install folder, whose node_modules has the packages the samples use.
//
// createRequire (CommonJS) because onnxruntime-node is a CommonJS package
// with a native addon; it loads the same way from ESM through require.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where to look, in order, with a label used in the error message. */
function candidateBases() {
  const bases = [{ from: fileURLToPath(import.meta.url), label: 'next to the sample (normal resolution)' }];
  const home = process.env.MLOPS_HOME;
  if (home) bases.push({ from: join(resolve(home), '__mlops_home__.js'), label: `MLOPS_HOME=${home}` });
  // The entry script as it was given (not realpath'd, unlike import.meta.url),
  // so a sample reached through a symlink still finds node_modules above the
  // link. Node walks every ancestor's node_modules from this starting point.
  if (process.argv[1]) {
    bases.push({ from: join(dirname(resolve(process.argv[1])), '__script__.js'), label: `folders above ${dirname(resolve(process.argv[1]))}` });
  }
  return bases;
}

/**
 * Resolve a package's entry file without loading it.
 * @param {string} name
 * @returns {{ path: string, require: NodeRequire }}
 */
export function resolvePackage(name) {
  const tried = [];
  for (const base of candidateBases()) {
    const req = createRequire(base.from);
    try {
      return { path: req.resolve(name), require: req };
    } catch (err) {
      if (err?.code !== 'MODULE_NOT_FOUND') throw err;
      tried.push(base.label);
    }
  }
  const home = process.env.MLOPS_HOME;
  const hint = home
    ? `MLOPS_HOME is set to ${home}, but it has no node_modules/${name}: point MLOPS_HOME at the MLOps Workbench install folder.`
    : `MLOPS_HOME is not set: set it to the MLOps Workbench install folder (the one whose node_modules has ${name}), or run "npm install ${name}" in this project.`;
  const err = new Error(`cannot find the npm package "${name}" (looked: ${tried.join('; ')}). ${hint}`);
  throw Object.assign(err, { code: 'MLOPS_PACKAGE_NOT_FOUND' });
}

/**
 * Load a CommonJS package found by resolvePackage. Load errors (a broken
 * native binary, say) are not "not found" and are passed through as they are.
 * @param {string} name
 */
export function requirePackage(name) {
  const { path, require } = resolvePackage(name);
  return require(path);
}
