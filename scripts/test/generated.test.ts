// The Envoy config variants (envoy/generated/<variant>/) are generated from the hand-written Zipkin configs: what is
// committed must be exactly what `make generate` writes now, so a variant can never drift from its source, and each
// differs from its source only where its generator says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ENVOY_VARIANTS } from '../generators/all-envoy-variants.ts';
import { COLLECTOR_VARIANT, COLLECTOR_ZIPKIN_RECEIVER } from '../generators/collector-variant.ts';
import { generateVariantFile, variantFiles } from '../generators/envoy-variant.ts';
import { OTEL_TRACER_VARIANT } from '../generators/otel-tracer-variant.ts';
import { readEnvoyConfig, type EnvoyConfig } from '../mesh/envoy-config.ts';
import { REPO_ROOT } from '../repo.ts';

/** The listeners with each one's tracers counted, not compared. */
const listenersOf = (config: EnvoyConfig) =>
  config.listeners.map((listener) => ({ ...listener, tracers: listener.tracers.length }));

describe('generated files', () => {
  for (const variant of ENVOY_VARIANTS) {
    for (const { source, target } of variantFiles(variant)) {
      const relative = path.relative(REPO_ROOT, target);
      it(`${relative} is committed and current (make generate)`, async () => {
        assert.ok(existsSync(target), `${relative} is missing: run make generate`);
        assert.equal(
          readFileSync(target, 'utf8'),
          await generateVariantFile(variant, source),
          `${relative} is stale: run make generate`,
        );
      });
    }
  }

  for (const { source, target } of variantFiles(OTEL_TRACER_VARIANT)) {
    it(`${path.relative(REPO_ROOT, target)} differs from ${source} in the tracer only`, () => {
      const zipkin = readEnvoyConfig(path.join(REPO_ROOT, source));
      const otel = readEnvoyConfig(target);
      assert.equal(otel.nodeCluster, zipkin.nodeCluster);
      assert.deepEqual(listenersOf(otel), listenersOf(zipkin));
      assert.ok(
        otel.listeners
          .flatMap((l) => l.tracers)
          .every((t) => t['@type'] === 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig'),
      );
      assert.deepEqual(
        otel.clusters.filter((c) => c.name !== 'otlp'),
        zipkin.clusters.filter((c) => c.name !== 'zipkin'),
      );
    });
  }

  for (const { source, target } of variantFiles(COLLECTOR_VARIANT)) {
    it(`${path.relative(REPO_ROOT, target)} differs from ${source} in where the spans go only`, () => {
      const direct = readEnvoyConfig(path.join(REPO_ROOT, source));
      const viaCollector = readEnvoyConfig(target);
      assert.equal(viaCollector.nodeCluster, direct.nodeCluster);
      assert.deepEqual(listenersOf(viaCollector), listenersOf(direct));
      const { host, port, path: apiPath } = COLLECTOR_ZIPKIN_RECEIVER;
      for (const tracer of viaCollector.listeners.flatMap((l) => l.tracers)) {
        assert.equal(tracer['@type'], 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig');
        assert.deepEqual((tracer.collector_service as { http_uri: unknown }).http_uri, {
          uri: `http://${host}:${port}${apiPath}`,
          cluster: 'otel-collector',
          timeout: '5s',
        });
      }
      const collector = viaCollector.clusters.find((c) => c.name === 'otel-collector');
      assert.deepEqual(collector?.endpoints, [{ address: host, port }]);
      assert.deepEqual(
        viaCollector.clusters.filter((c) => c.name !== 'otel-collector'),
        direct.clusters.filter((c) => c.name !== 'zipkin'),
      );
    });
  }
});
