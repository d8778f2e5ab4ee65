import { stringify } from 'yaml';
import schema from '../../../schemas/mlops.schema.json';

/**
 * Reads the manifest JSON Schema for authoring help: which keys and values fit at a value
 * path, and the documentation of each (description, default, examples). The schema is the
 * single source of truth, so completion and hover never disagree with validation.
 */
export interface SchemaNode {
  $ref?: string;
  title?: string;
  description?: string;
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  propertyNames?: SchemaNode;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  allOf?: SchemaNode[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
  required?: string[];
  pattern?: string;
}

const ROOT = schema as unknown as SchemaNode & { definitions: Record<string, SchemaNode> };

export function deref(node: SchemaNode | undefined): SchemaNode | undefined {
  let cur = node;
  for (let i = 0; cur?.$ref && i < 20; i++) cur = ROOT.definitions[cur.$ref.replace(/^#\/definitions\//, '')];
  return cur;
}

const mergedCache = new WeakMap<SchemaNode, SchemaNode>();

/** The node with its `$ref` target's fields beneath its own (a property's description wins). Same object each time. */
function merged(node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  let m = mergedCache.get(node);
  if (!m) {
    const target = deref(node) ?? {};
    const { $ref: _ignored, ...own } = node;
    mergedCache.set(node, (m = { ...target, ...own }));
  }
  return m;
}

/** Every alternative a node may take (oneOf/anyOf flattened, refs resolved). */
export function alternatives(node: SchemaNode | undefined, depth = 0): SchemaNode[] {
  if (!node || depth > 10) return [];
  const m = merged(node);
  const alts = m.oneOf ?? m.anyOf;
  if (!alts) return [m];
  return alts.flatMap((a) => alternatives(a, depth + 1).map((x) => ({ ...x, description: x.description ?? m.description, examples: x.examples ?? m.examples })));
}

/** The schema nodes a value at `path` may match (several when the schema allows alternatives). */
export function schemaAt(path: readonly (string | number)[]): SchemaNode[] {
  let current: SchemaNode[] = [ROOT];
  for (const seg of path) {
    const next: SchemaNode[] = [];
    for (const alt of current.flatMap((c) => alternatives(c))) {
      if (typeof seg === 'number' || seg === '-') {
        if (alt.items) next.push(alt.items);
        continue;
      }
      const prop = alt.properties?.[seg];
      if (prop) next.push(prop);
      else if (alt.additionalProperties && typeof alt.additionalProperties === 'object') next.push(alt.additionalProperties);
    }
    if (next.length === 0) return [];
    current = next;
  }
  return current;
}

export interface PropertyInfo {
  name: string;
  node: SchemaNode;
  required: boolean;
}

/** Keys allowed in the mapping at `path` (fixed properties only; name-keyed maps have none). */
export function propertiesAt(path: readonly (string | number)[]): PropertyInfo[] {
  const out = new Map<string, PropertyInfo>();
  for (const alt of schemaAt(path).flatMap((c) => alternatives(c))) {
    for (const [name, node] of Object.entries(alt.properties ?? {})) {
      if (!out.has(name)) out.set(name, { name, node: merged(node), required: !!alt.required?.includes(name) });
    }
  }
  return [...out.values()];
}

/** True when the mapping at `path` is keyed by user-chosen names (steps:, params:, env:…). */
export function isNameKeyed(path: readonly (string | number)[]): boolean {
  return schemaAt(path).flatMap((c) => alternatives(c)).some((a) => !a.properties && typeof a.additionalProperties === 'object');
}

/** JSON types a node accepts, alternatives included. */
export function typesOf(node: SchemaNode): string[] {
  const types = new Set<string>();
  for (const alt of alternatives(node)) {
    if (Array.isArray(alt.type)) alt.type.forEach((t) => types.add(t));
    else if (alt.type) types.add(alt.type);
    else if (alt.properties) types.add('object');
    else if (alt.enum) alt.enum.forEach((v) => types.add(typeof v));
  }
  return [...types];
}

/** Scalar values the schema names for a node: enum members, consts, booleans. */
export function enumValues(node: SchemaNode): { value: unknown; description?: string }[] {
  const out: { value: unknown; description?: string }[] = [];
  for (const alt of alternatives(node)) {
    if (alt.enum) for (const v of alt.enum) out.push({ value: v });
    if ('const' in alt) out.push({ value: alt.const, description: alt.description });
    if (alt.type === 'boolean') out.push({ value: true }, { value: false });
  }
  const seen = new Set<string>();
  return out.filter((v) => !seen.has(JSON.stringify(v.value)) && !!seen.add(JSON.stringify(v.value)));
}

const docCache = new WeakMap<SchemaNode, Map<string, string>>();

/** Markdown documentation of a node: description, accepted values, default, examples in YAML. */
export function documentation(node: SchemaNode, title?: string): string {
  let byTitle = docCache.get(node);
  if (!byTitle) docCache.set(node, (byTitle = new Map()));
  let doc = byTitle.get(title ?? '');
  if (doc === undefined) byTitle.set(title ?? '', (doc = renderDocumentation(node, title)));
  return doc;
}

function renderDocumentation(node: SchemaNode, title?: string): string {
  const m = merged(node);
  const parts: string[] = [];
  if (title) parts.push(`**${title}**${m.title ? ` — ${m.title}` : ''}`);
  if (m.description) parts.push(m.description);
  const values = enumValues(m);
  if (values.length && values.length <= 12) parts.push(`Allowed: ${values.map((v) => `\`${String(v.value)}\``).join(', ')}`);
  if (m.default !== undefined) parts.push(`Default: \`${typeof m.default === 'string' ? m.default : JSON.stringify(m.default)}\``);
  const examples = m.examples ?? alternatives(m).flatMap((a) => a.examples ?? []);
  if (examples.length) {
    const key = title ?? 'value';
    const body = examples.slice(0, 3).map((e) => stringify({ [key]: e }, { lineWidth: 0, flowCollectionPadding: false }).trimEnd()).join('\n');
    parts.push('Examples:\n```yaml\n' + body + '\n```');
  }
  return parts.join('\n\n');
}
