// `make generate`: writes the generated files: the OpenTelemetry-tracer variant of every Envoy config, and the
// hostile trace-header corpus.
// A test checks that what is committed equals what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateVariant, variantSources, VARIANT_DIR } from './generators/otel-tracer-variant.ts';
import { CORPUS_FILE, generateCorpus } from './generators/hostile-corpus.ts';
import { REPO_ROOT } from './repo.ts';

async function main(): Promise<void> {
  mkdirSync(VARIANT_DIR, { recursive: true });
  for (const { source, target } of variantSources()) {
    writeFileSync(target, await generateVariant(source));
    console.log(`generate: ${path.relative(REPO_ROOT, target)} <- ${source}`);
  }
  const corpus = generateCorpus();
  writeFileSync(CORPUS_FILE, `${JSON.stringify(corpus, null, 1)}\n`);
  console.log(`generate: ${path.relative(REPO_ROOT, CORPUS_FILE)} (${corpus.length} cases)`);
}

main().catch((error: unknown) => {
  console.error(`generate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
