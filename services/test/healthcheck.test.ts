// The container healthcheck (services/healthcheck.sh, run by compose and Kubernetes as `healthcheck`) against the
// real apps on loopback: healthy while they serve, unhealthy with a reason once they hang or stop.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENVIRONMENT_DEFAULTS, ROLES } from '../src/config.ts';
import { startChain, type Chain } from '../../scripts/loopback/chain.ts';

const SCRIPT = path.join(__dirname, '..', 'healthcheck.sh');

/** Runs the healthcheck as the engine does, with the app's environment; its exit code and stderr. */
function healthcheck(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(SCRIPT, { env: { PATH: process.env.PATH ?? '', ...env } }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stderr });
    });
  });
}

describe('the container healthcheck', () => {
  let chain: Chain;
  before(async () => {
    chain = await startChain('otel');
  });
  after(async () => {
    await chain.stop();
  });

  it('is healthy on every serving app, HTTP and gRPC', async () => {
    for (const app of [chain.service1, chain.service2, chain.service3]) {
      const result = await healthcheck({ ROLE: app.env.ROLE ?? '', LISTEN: app.env.LISTEN ?? '' });
      assert.deepEqual(result, { code: 0, stderr: '' }, app.env.SERVICE_NAME);
    }
  });

  it('is unhealthy, saying why, when the gRPC app hangs (curl gives up after 2 s)', async () => {
    chain.service3.signal('SIGSTOP');
    try {
      const result = await healthcheck({ ROLE: 'grpc', LISTEN: chain.service3.env.LISTEN ?? '' });
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /timed out[\s\S]*unhealthy: grpc\.health\.v1 Check on 127\.0\.0\.1:\d+ answered ''/,
      );
    } finally {
      chain.service3.signal('SIGCONT');
    }
  });

  it('is unhealthy when the HTTP app is gone, and for a ROLE it does not know', async () => {
    await chain.service1.stop();
    const gone = await healthcheck({ ROLE: 'http', LISTEN: chain.service1.env.LISTEN ?? '' });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /curl: \(7\) Failed to connect/);
    const unknown = await healthcheck({ ROLE: 'graphql', LISTEN: chain.service2.env.LISTEN ?? '' });
    assert.deepEqual(unknown, { code: 1, stderr: "unhealthy: ROLE must be http or grpc, not 'graphql'\n" });
  });

  it("knows config.ts's roles and default LISTEN address, and no others", () => {
    const script = readFileSync(SCRIPT, 'utf8');
    assert.ok(
      script.includes(`listen=\${LISTEN:-${ENVIRONMENT_DEFAULTS.LISTEN}}`),
      `healthcheck.sh's default LISTEN is config.ts's ${ENVIRONMENT_DEFAULTS.LISTEN}`,
    );
    const arms = [...script.matchAll(/^ {2}([a-z]+)\)$/gm)].map((match) => match[1]);
    assert.deepEqual(arms, [...ROLES], "healthcheck.sh's case arms are config.ts's ROLES");
  });
});
