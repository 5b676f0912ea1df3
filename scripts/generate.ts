// `make generate`: writes the generated files: every Envoy config variant (the OpenTelemetry tracer's, the
// collector path's), and the hostile trace-header corpus.
// A test checks that what is committed equals what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ENVOY_VARIANTS } from './generators/all-envoy-variants.ts';
import { generateVariantFile, variantFiles } from './generators/envoy-variant.ts';
import { CORPUS_FILE, generateCorpus } from './generators/hostile-corpus.ts';
import { REPO_ROOT } from './repo.ts';

async function main(): Promise<void> {
  for (const variant of ENVOY_VARIANTS) {
    mkdirSync(variant.dir, { recursive: true });
    for (const { source, target } of variantFiles(variant)) {
      writeFileSync(target, await generateVariantFile(variant, source));
      console.log(`generate: ${path.relative(REPO_ROOT, target)} <- ${source}`);
    }
  }
  const corpus = generateCorpus();
  writeFileSync(CORPUS_FILE, `${JSON.stringify(corpus, null, 1)}\n`);
  console.log(`generate: ${path.relative(REPO_ROOT, CORPUS_FILE)} (${corpus.length} cases)`);
}

main().catch((error: unknown) => {
  console.error(`generate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
