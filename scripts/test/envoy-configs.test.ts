// Every Envoy config in the repo through the real, pinned Envoy (`make tools`): valid, and nothing deprecated.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../repo.ts';

const ENVOY = path.join(REPO_ROOT, '.tools', 'venv', 'bin', 'envoy');

/** Every YAML file in the repo that is an Envoy bootstrap. */
function envoyConfigFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', '.git', '.tools', '.run'].includes(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name) && /^static_resources:/m.test(readFileSync(full, 'utf8')))
        found.push(full);
    }
  };
  walk(REPO_ROOT);
  return found.sort();
}

describe('Envoy configs, validated by the pinned Envoy', () => {
  it('finds the front proxy and the three sidecars', () => {
    const names = envoyConfigFiles().map((file) => path.relative(REPO_ROOT, file));
    for (const expected of [
      'envoy/front-envoy.yaml',
      'envoy/service1-envoy.yaml',
      'envoy/service2-envoy.yaml',
      'envoy/service3-envoy.yaml',
    ]) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    }
  });

  it('has the pinned Envoy installed (make tools)', () => {
    assert.ok(existsSync(ENVOY), `${ENVOY} is missing: run make tools`);
    const version = readFileSync(path.join(REPO_ROOT, '.env'), 'utf8').match(/^ENVOY_VERSION=(\S+)/m)?.[1];
    assert.match(
      execFileSync(ENVOY, ['--version'], { encoding: 'utf8' }),
      new RegExp(`/${String(version)}/`),
    );
  });

  for (const file of envoyConfigFiles()) {
    it(`${path.relative(REPO_ROOT, file)}: envoy --mode validate passes with no warning or deprecation`, () => {
      let output: string;
      try {
        output = execFileSync(ENVOY, ['--mode', 'validate', '-c', file, '--log-level', 'warn'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        const { stdout, stderr } = error as { stdout: string; stderr: string };
        assert.fail(`envoy rejected ${file}:\n${stdout}\n${stderr}`);
      }
      assert.match(output, /OK$/m);
      const complaints = output
        .split('\n')
        .filter((line) => /\[(warning|error|critical)\]|deprecat/i.test(line));
      assert.deepEqual(complaints, []);
    });
  }
});
