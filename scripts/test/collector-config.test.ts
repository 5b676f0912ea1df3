// The collector's config through the collector's own validation (`validate`, the pinned release `make tools` builds),
// and the stand-in's component list held to what the config uses: a bad config fails here, never at `up` time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { composeVariables } from '../mesh/compose.ts';
import { REPO_ROOT } from '../repo.ts';

const OTELCOL = path.join(REPO_ROOT, '.tools', 'bin', 'otelcol-contrib');
const CONFIG = path.join(REPO_ROOT, 'collector', 'otel-collector.yaml');
const CONFIG_TEXT = readFileSync(CONFIG, 'utf8');

/** `otelcol-contrib validate` on this config text: its exit status and what it said. */
function validate(text: string): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'otelcol-'));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text);
  const result = spawnSync(OTELCOL, ['validate', '--config', file], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
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

  it('a bad value fails with the collector’s own words', () => {
    const { status, output } = validate(CONFIG_TEXT.replace('queue_size: 50000', 'queue_size: many'));
    assert.notEqual(status, 0);
    assert.match(output, /queue_size/);
  });

  it('builds exactly the components the config uses (collector/ocb-manifest.yaml)', () => {
    const built = parse(
      spawnSync(OTELCOL, ['components'], { encoding: 'utf8', timeout: 30_000 }).stdout,
    ) as Partial<Record<Kind, { name: string }[]>>;
    const used = componentsUsed(CONFIG_TEXT);
    for (const kind of KINDS)
      assert.deepEqual((built[kind] ?? []).map((c) => c.name).sort(), used[kind], kind);
  });
});
