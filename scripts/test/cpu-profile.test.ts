// `make profile-apps` reads the profiles Node's --cpu-prof writes: here a real one, of a Node process that spends
// its time in os.networkInterfaces (as the apps' resolve-hostname does) and in a function of its own. No engine.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuByPart, profiledApps } from '../bench/cpu-profile.ts';
import { isApp, loadCompose } from '../mesh/compose.ts';
import { composeFiles } from '../repo.ts';

/** A real profile: 1.5 s of os.networkInterfaces() in a loop, at the profiler's default interval. */
function profileOfInterfaceLookups(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cpu-profile-'));
  const work =
    'const os = require("node:os"); const end = Date.now() + 1500; while (Date.now() < end) os.networkInterfaces();';
  const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', work], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return dir;
}

describe('make profile-apps: CPU by part from a real --cpu-prof profile', () => {
  it("puts the time of os.networkInterfaces under resolve-hostname's part, and nothing under OpenTelemetry", () => {
    const parts = cpuByPart(profileOfInterfaceLookups());
    const total = [...parts.values()].reduce((sum, ms) => sum + ms, 0);
    const lookups = parts.get('os.networkInterfaces (resolve-hostname)') ?? 0;
    assert.ok(
      lookups > total / 2,
      `os.networkInterfaces ${lookups.toFixed(0)} of ${total.toFixed(0)} ms: ${[...parts].join('; ')}`,
    );
    assert.equal([...parts.keys()].filter((part) => part.startsWith('OpenTelemetry')).length, 0);
  });

  it("runs every app of the README's mesh under the profiler, each writing to a folder make profile-apps copies", () => {
    const project = loadCompose(composeFiles('zipkin'));
    const apps = [...project.services.values()].filter((s) => isApp(project, s)).map((s) => s.name);
    const dirs = profiledApps();
    assert.deepEqual([...dirs.keys()].sort(), apps.sort());
    for (const [app, dir] of dirs)
      assert.match(dir, /^\/\S+$/, `${app}'s --cpu-prof-dir is an absolute path`);
  });
});
