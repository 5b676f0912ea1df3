// Runs test files in one Node process, in the order given: `make test-e2e` passes its E2E_ORDER, `make
// test-reliability` its files.
//
//   node --import tsx --test-reporter=spec scripts/test/in-order.ts FILE...
//
// Why not `node --test FILE...`: it sorts the files by name, and runs each in a process of its own. The end-to-end
// files' order matters (each brings the shared mesh to the state it needs; the Makefile's order changes it least),
// and one process pays Node's and tsx's start once, and asks compose to build the mesh's images once: the first `up`
// of the run is the README's `docker compose up --build --wait`, later ones leave `--build` out for images this
// process built (compose-mesh.ts). Without --test, node:test runs the tests each file declares one after another,
// reports them all, and exits non-zero if any failed.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

async function importInOrder(files: string[]): Promise<void> {
  for (const file of files) {
    try {
      await import(pathToFileURL(path.resolve(file)).href);
    } catch (error) {
      // A file that cannot even load fails the run; the files after it still run.
      console.error(
        `in-order.ts: ${file} did not load: ${error instanceof Error ? error.stack : String(error)}`,
      );
      process.exitCode = 1;
    }
  }
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: in-order.ts TEST_FILE...');
  process.exit(2);
}
importInOrder(files).catch((error: unknown) => {
  console.error(`in-order.ts: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
