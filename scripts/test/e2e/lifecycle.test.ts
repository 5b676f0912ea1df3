// The compose lifecycle a user goes through, on the engine: `up` again changes nothing, `stop` stops every
// container gracefully (SIGTERM reaches the apps, they flush and exit 0), `down` leaves nothing and is safe to repeat.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { meshFor } from './support.ts';

/** Containers and networks of the compose project, as the engine lists them. */
function leftovers(project: string): { containers: string[]; networks: string[] } {
  const list = (args: string[]) =>
    execFileSync('docker', args, { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '');
  return {
    containers: list([
      'ps',
      '--all',
      '--format',
      '{{.Names}}',
      '--filter',
      `label=com.docker.compose.project=${project}`,
    ]),
    networks: list([
      'network',
      'ls',
      '--format',
      '{{.Name}}',
      '--filter',
      `label=com.docker.compose.project=${project}`,
    ]),
  };
}

describe('the compose lifecycle', () => {
  const under = meshFor('zipkin', 'otel');

  it('a second `up --wait` recreates nothing and finds every container running', async () => {
    const output = await under.mesh.compose(['up', '--wait', '--detach'], { TRACING_MODE: 'otel' });
    assert.doesNotMatch(output, /Recreate/, output);
    for (const service of under.mesh.project.services.keys())
      assert.ok(under.mesh.isHealthy(service), service);
  });

  it('`stop`: every app logs the SIGTERM, flushes, and exits 0; every Envoy exits 0', async () => {
    const ids = new Map([...under.mesh.project.services.keys()].map((s) => [s, under.mesh.containerId(s)]));
    const stopStarted = Date.now();
    await under.mesh.compose(['stop']);
    const stopSeconds = ((Date.now() - stopStarted) / 1000).toFixed(1);
    for (const [service, id] of ids) {
      const exitCode = execFileSync('docker', ['inspect', '--format', '{{.State.ExitCode}}', id], {
        encoding: 'utf8',
      }).trim();
      // Once in many CI runs an Envoy sat out its whole stop_grace_period and was killed (137): the failure
      // message carries what it logged last, so the next occurrence says where it stopped.
      if (under.mesh.apps.includes(service) || under.mesh.envoys.includes(service))
        assert.equal(
          exitCode,
          '0',
          `${service} exited ${exitCode} (\`stop\` took ${stopSeconds} s); its last lines:\n${await under.mesh.logs(service, 25)}`,
        );
    }
    for (const app of under.mesh.apps) {
      const log = await under.mesh.logs(app, 20);
      assert.match(log, /"signal":"SIGTERM".*"msg":"shutting down"/, `${app} got SIGTERM`);
      assert.match(log, /"msg":"stopped"/, `${app} finished its shutdown steps (spans flushed)`);
    }
  });

  it('`down` removes every container and the network, and a second `down` is fine', async () => {
    await under.mesh.down();
    assert.deepEqual(leftovers(under.mesh.project.name), { containers: [], networks: [] });
    await under.mesh.down();
  });
});
