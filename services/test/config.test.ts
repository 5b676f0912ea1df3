import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.ts';
import { runToExit } from '../../scripts/loopback/service-process.ts';

const valid = { SERVICE_NAME: 'service1', ROLE: 'http' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('environment contract', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(valid);
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 8080 });
    assert.equal(config.tracingMode, 'otel');
    assert.equal(config.nextHop, null);
    assert.equal(config.zipkinEndpoint.href, 'http://zipkin:9411/api/v2/spans');
    assert.equal(config.downstreamTimeoutMs, 2000);
    assert.equal(config.tracesExporter, 'zipkin');
    assert.deepEqual(config.propagators, ['tracecontext', 'baggage', 'b3multi']);
    assert.equal(config.tracesExporter, 'zipkin');
    assert.deepEqual(config.propagators, ['tracecontext', 'baggage', 'b3multi']);
  });

  it('reads an HTTP and a gRPC next hop, and treats an empty NEXT_HOP as none', () => {
    const http = loadConfig({ ...valid, NEXT_HOP: 'http://127.0.0.1:9000/trace/2' }).nextHop;
    assert.deepEqual(http?.protocol === 'http' && http.url.href, 'http://127.0.0.1:9000/trace/2');
    assert.deepEqual(loadConfig({ ...valid, NEXT_HOP: 'grpc://127.0.0.1:9000' }).nextHop, {
      protocol: 'grpc',
      target: '127.0.0.1:9000',
    });
    assert.equal(loadConfig({ ...valid, NEXT_HOP: '' }).nextHop, null);
  });

  const rejected: [string, Record<string, string>, string][] = [
    ['SERVICE_NAME', { ROLE: 'http' }, 'SERVICE_NAME=(unset) is required'],
    ['SERVICE_NAME', { ...valid, SERVICE_NAME: 'Service 1' }, 'SERVICE_NAME="Service 1" must be lowercase'],
    ['ROLE', { ...valid, ROLE: 'rest' }, 'ROLE="rest" is required and must be one of: http, grpc'],
    ['LISTEN', { ...valid, LISTEN: '8080' }, 'LISTEN="8080" must be HOST:PORT'],
    ['LISTEN', { ...valid, LISTEN: '127.0.0.1:70000' }, 'LISTEN="127.0.0.1:70000" must be HOST:PORT'],
    ['NEXT_HOP', { ...valid, NEXT_HOP: 'service2:8000' }, 'NEXT_HOP="service2:8000" must be an http:// URL'],
    [
      'NEXT_HOP',
      { ...valid, NEXT_HOP: 'grpc://service3' },
      'NEXT_HOP="grpc://service3" must be an http:// URL',
    ],
    [
      'NEXT_HOP',
      { SERVICE_NAME: 's3', ROLE: 'grpc', NEXT_HOP: 'grpc://x:1' },
      'must be empty when ROLE=grpc',
    ],
    [
      'TRACING_MODE',
      { ...valid, TRACING_MODE: 'OTEL' },
      'TRACING_MODE="OTEL" must be one of: otel, forward, off',
    ],
    [
      'ZIPKIN_ENDPOINT',
      { ...valid, ZIPKIN_ENDPOINT: 'zipkin:9411' },
      'ZIPKIN_ENDPOINT="zipkin:9411" must be an http://',
    ],
    [
      'DOWNSTREAM_TIMEOUT_MS',
      { ...valid, DOWNSTREAM_TIMEOUT_MS: '2s' },
      'DOWNSTREAM_TIMEOUT_MS="2s" must be a whole',
    ],
    [
      'DOWNSTREAM_TIMEOUT_MS',
      { ...valid, DOWNSTREAM_TIMEOUT_MS: '0' },
      'DOWNSTREAM_TIMEOUT_MS="0" must be a whole',
    ],
    ['LOG_LEVEL', { ...valid, LOG_LEVEL: 'loud' }, 'LOG_LEVEL="loud" must be one of'],
    [
      'TRACES_EXPORTER',
      { ...valid, TRACES_EXPORTER: 'jaeger' },
      'TRACES_EXPORTER="jaeger" must be one of: zipkin, otlp',
    ],
    [
      'PROPAGATORS',
      { ...valid, PROPAGATORS: 'tracecontext,b3' },
      'PROPAGATORS="tracecontext,b3" must be a comma-separated list of: tracecontext, baggage, b3multi',
    ],
  ];
  for (const [variable, env, expected] of rejected) {
    it(`rejects a bad ${variable}: ${JSON.stringify(env[variable] ?? '(unset)')}`, () => {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]?.includes(expected), `"${problems[0]}" should contain "${expected}"`);
    });
  }

  it('names every bad variable, one line each', () => {
    const problems = problemsOf({ SERVICE_NAME: 'service1', ROLE: 'x', TRACING_MODE: 'y' });
    assert.deepEqual(
      problems.map((line) => /^invalid environment: (\w+)=/.exec(line)?.[1]),
      ['ROLE', 'TRACING_MODE'],
    );
  });

  it('makes the process exit 2 with one line per bad variable, before listening', async () => {
    const { code, stderr } = await runToExit({
      SERVICE_NAME: 'service1',
      ROLE: 'http',
      TRACING_MODE: 'verbose',
    });
    assert.equal(code, 2);
    assert.equal(
      stderr.trim(),
      'invalid environment: TRACING_MODE="verbose" must be one of: otel, forward, off',
    );
  });
});
