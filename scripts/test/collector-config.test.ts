// The collector's config through the collector's own validation (`validate`, the pinned release `make tools` builds),
// and the stand-in's component list held to what the config uses: a bad config fails here, never at `up` time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { composeVariables } from '../mesh/compose.ts';
import { REPO_ROOT } from '../repo.ts';

const OTELCOL = path.join(REPO_ROOT, '.tools', 'bin', 'otelcol-contrib');
const CONFIG_TEXT = readFileSync(path.join(REPO_ROOT, 'collector', 'otel-collector.yaml'), 'utf8');
/** Merged over the config by docker-compose.tail-sampling.yaml (a second --config). */
const TAIL_SAMPLING_TEXT = readFileSync(path.join(REPO_ROOT, 'collector', 'tail-sampling.yaml'), 'utf8');

/** These config texts written into `dir`, as the --config arguments that merge them in order. */
function configArgs(dir: string, texts: string[]): string[] {
  return texts.flatMap((text, i) => {
    const file = path.join(dir, `config-${String(i)}.yaml`);
    writeFileSync(file, text);
    return ['--config', file];
  });
}

/** `otelcol-contrib validate` on these config texts, merged in order as --config does: exit status and words. */
function validate(...texts: string[]): { status: number | null; output: string } {
  const args = configArgs(mkdtempSync(path.join(tmpdir(), 'otelcol-')), texts);
  const result = spawnSync(OTELCOL, ['validate', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * Starts the collector on these config texts, on this host, until it says it is ready (then stops it), or until it
 * exits: the errors `validate` cannot see, such as a tail-sampling policy of an unknown type (the processor builds its
 * policies only when it starts). Every listener on a free loopback port, the queue in a temporary folder, its own
 * metrics off: nothing it does reaches the mesh or the host's published ports.
 */
function start(...texts: string[]): Promise<{ ready: boolean; output: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'otelcol-start-'));
  const args = configArgs(dir, texts);
  const overrides = [
    'receivers::zipkin::endpoint=127.0.0.1:0',
    'receivers::otlp::protocols::http::endpoint=127.0.0.1:0',
    `extensions::file_storage::directory=${dir}`,
    'service::telemetry::metrics::level=none',
  ].map((setting) => `--set=${setting}`);
  return new Promise((resolve) => {
    const child = spawn(OTELCOL, [...args, ...overrides], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Everything is ready')) child.kill('SIGTERM');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ ready: output.includes('Everything is ready'), output });
    });
  });
}

type Kind = 'receivers' | 'processors' | 'exporters' | 'extensions';
const KINDS: Kind[] = ['receivers', 'processors', 'exporters', 'extensions'];

/** The component types a config names, per kind ("zipkin/2" is of type zipkin). */
function componentsUsed(text: string): Record<Kind, string[]> {
  const config = parse(text) as Partial<Record<Kind, Record<string, unknown>>>;
  const used = {} as Record<Kind, string[]>;
  for (const kind of KINDS)
    used[kind] = Object.keys(config[kind] ?? {})
      .map((id) => id.split('/')[0] ?? id)
      .sort();
  return used;
}

describe('the OpenTelemetry Collector config, validated by the pinned collector', () => {
  it('has the pinned collector installed (make tools)', () => {
    assert.ok(existsSync(OTELCOL), `${OTELCOL} is missing: run make tools`);
    const version = spawnSync(OTELCOL, ['--version'], { encoding: 'utf8' }).stdout;
    assert.match(version, new RegExp(`version ${composeVariables({}).OTELCOL_VERSION ?? '?'}$`, 'm'));
  });

  it('collector/otel-collector.yaml is valid', () => {
    const { status, output } = validate(CONFIG_TEXT);
    assert.equal(status, 0, output);
  });

  it('an unknown component fails with the collector’s own words', () => {
    const { status, output } = validate(CONFIG_TEXT.replace('  memory_limiter:\n', '  memory_limitter:\n'));
    assert.notEqual(status, 0);
    assert.match(output, /unknown type: "memory_limitter"/);
  });

  it('collector/tail-sampling.yaml merged over it is valid and starts; a bad value fails in the collector’s words', async () => {
    const { status, output } = validate(CONFIG_TEXT, TAIL_SAMPLING_TEXT);
    assert.equal(status, 0, output);
    const started = await start(CONFIG_TEXT, TAIL_SAMPLING_TEXT);
    assert.ok(started.ready, started.output);
    const badWait = validate(
      CONFIG_TEXT,
      TAIL_SAMPLING_TEXT.replace('decision_wait: 2s', 'decision_wait: soon'),
    );
    assert.notEqual(badWait.status, 0);
    assert.match(badWait.output, /decision_wait/);
    // `validate` accepts a policy of an unknown type; the collector refuses it as it starts, and says which.
    const badPolicy = await start(CONFIG_TEXT, TAIL_SAMPLING_TEXT.replace('type: latency', 'type: latencyy'));
    assert.equal(badPolicy.ready, false);
    assert.match(badPolicy.output, /unknown sampling policy type latencyy/);
  });

  it('a bad value fails with the collector’s own words', () => {
    const { status, output } = validate(CONFIG_TEXT.replace('queue_size: 50000', 'queue_size: many'));
    assert.notEqual(status, 0);
    assert.match(output, /queue_size/);
  });

  it('builds exactly the components the configs use (collector/ocb-manifest.yaml)', () => {
    const built = parse(
      spawnSync(OTELCOL, ['components'], { encoding: 'utf8', timeout: 30_000 }).stdout,
    ) as Partial<Record<Kind, { name: string }[]>>;
    const [base, tail] = [componentsUsed(CONFIG_TEXT), componentsUsed(TAIL_SAMPLING_TEXT)];
    for (const kind of KINDS)
      assert.deepEqual(
        (built[kind] ?? []).map((c) => c.name).sort(),
        [...new Set([...base[kind], ...tail[kind]])].sort(),
        kind,
      );
  });
});
