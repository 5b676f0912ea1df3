// The OpenTelemetry-tracer Envoy configs are generated from the Zipkin ones: what is committed must be exactly what
// `make generate` writes now, so the two variants can never drift apart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateVariant, variantSources } from '../generators/otel-tracer-variant.ts';
import { readEnvoyConfig } from '../mesh/envoy-config.ts';
import { REPO_ROOT } from '../repo.ts';

describe('generated files', () => {
  for (const { source, target } of variantSources()) {
    const relative = path.relative(REPO_ROOT, target);
    it(`${relative} is committed and current (make generate)`, async () => {
      assert.ok(existsSync(target), `${relative} is missing: run make generate`);
      assert.equal(
        readFileSync(target, 'utf8'),
        await generateVariant(source),
        `${relative} is stale: run make generate`,
      );
    });

    it(`${relative} differs from ${source} in the tracer only`, () => {
      const zipkin = readEnvoyConfig(path.join(REPO_ROOT, source));
      const otel = readEnvoyConfig(target);
      assert.equal(otel.nodeCluster, zipkin.nodeCluster);
      assert.deepEqual(
        otel.listeners.map((l) => ({ ...l, tracers: l.tracers.length })),
        zipkin.listeners.map((l) => ({ ...l, tracers: l.tracers.length })),
      );
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
});
