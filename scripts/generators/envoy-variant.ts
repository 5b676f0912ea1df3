// What every generated Envoy config variant shares: the Zipkin configs it is made from, and how a rewritten config is
// written (a header that says where it came from, formatted as the repo formats YAML). Each variant's own module
// says what it rewrites.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { format } from 'prettier';
import { isScalar, parseDocument, type Document, type YAMLMap } from 'yaml';
import { REPO_ROOT } from '../repo.ts';

/** The hand-written Envoy configs (Zipkin tracer, spans straight to Zipkin) every variant is generated from. */
export const ENVOY_SOURCES = [
  'envoy/front-envoy.yaml',
  'envoy/service1-envoy.yaml',
  'envoy/service2-envoy.yaml',
  'envoy/service3-envoy.yaml',
] as const;

export interface EnvoyVariant {
  /** Where its files go: envoy/generated/<name>/. */
  dir: string;
  /** Its generator module, for the header. */
  generator: string;
  /** What the variant is and who uses it, for the header (one or more lines). */
  purpose: string;
  /** Rewrites one parsed source config in place; throws when the source lacks what it rewrites. */
  rewrite(document: Document, source: string): void;
}

/** The variant's directory, envoy/generated/<name>/, as an absolute path. */
export const variantDir = (name: string): string => path.join(REPO_ROOT, 'envoy', 'generated', name);

/** Each source config and the file the variant generates from it. */
export function variantFiles(variant: EnvoyVariant): { source: string; target: string }[] {
  return ENVOY_SOURCES.map((source) => ({ source, target: path.join(variant.dir, path.basename(source)) }));
}

export const mapValue = (map: YAMLMap, key: string): unknown => map.get(key, true);
export const scalarValue = (node: unknown): unknown => (isScalar(node) ? node.value : undefined);

/** The variant file's text for one source config. */
export async function generateVariantFile(variant: EnvoyVariant, source: string): Promise<string> {
  const document = parseDocument(readFileSync(path.join(REPO_ROOT, source), 'utf8'));
  variant.rewrite(document, source);
  const header = [
    `GENERATED from ${path.relative(variant.dir, path.join(REPO_ROOT, source))} by \`make generate\` (${variant.generator}): do not edit.`,
    ...variant.purpose.split('\n'),
  ].join('\n');
  // yaml writes each comment line as "#" + the line: the leading space is ours to give.
  const spaced = (text: string) =>
    text
      .split('\n')
      .map((line) => (line && !line.startsWith(' ') ? ` ${line}` : line))
      .join('\n');
  document.commentBefore = `${spaced(header)}\n\n${document.commentBefore ?? ''}`.trimEnd();
  return format(document.toString({ lineWidth: 0 }), { parser: 'yaml', ...prettierOptions() });
}

function prettierOptions(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, '.prettierrc.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}
