// k8s/: both overlays build with the pinned kustomize and validate offline against the Kubernetes schemas of the
// pinned version (kubernetes-validate, from PyPI); the sidecars overlay runs the repo's own Envoy configs, and
// every address those configs use is a Service there. No cluster is involved: see docs/kubernetes.md for what that leaves.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { composeVariables } from '../mesh/compose.ts';
import { parseEnvoyConfig } from '../mesh/envoy-config.ts';
import { REPO_ROOT } from '../repo.ts';

const TOOLS = path.join(REPO_ROOT, '.tools');
const versions = composeVariables({});
type Resource = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
};

function build(overlay: string): Resource[] {
  const yaml = execFileSync(
    path.join(TOOLS, 'bin', 'kustomize'),
    ['build', '--load-restrictor', 'LoadRestrictionsNone', path.join(REPO_ROOT, 'k8s', 'overlays', overlay)],
    { encoding: 'utf8' },
  );
  return parseAllDocuments(yaml).map((document) => document.toJS() as Resource);
}

const ISTIO_KINDS = new Set(['Gateway', 'VirtualService', 'Telemetry']);

function validate(resources: Resource[]): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'k8s-')), 'built.yaml');
  writeFileSync(file, resources.map((r) => JSON.stringify(r)).join('\n---\n'));
  return execFileSync(
    path.join(TOOLS, 'venv', 'bin', 'kubernetes-validate'),
    ['-k', String(versions.KUBERNETES_VERSION), '--strict', '--quiet', file],
    { encoding: 'utf8' },
  );
}

type Container = {
  name: string;
  image: string;
  securityContext?: {
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
  };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  resources?: { limits?: unknown; requests?: unknown };
};
const containersOf = (r: Resource) =>
  (r.spec as { template?: { spec?: { containers?: Container[] } } }).template?.spec?.containers ?? [];

for (const overlay of ['sidecars', 'istio']) {
  describe(`k8s/overlays/${overlay}`, () => {
    const resources = build(overlay);

    it(`builds with kustomize ${String(versions.KUSTOMIZE_VERSION)} and validates against Kubernetes ${String(versions.KUBERNETES_VERSION)}, strictly`, () => {
      assert.ok(resources.length >= 10);
      validate(resources.filter((r) => !ISTIO_KINDS.has(r.kind))); // throws on an invalid resource
    });

    it('pins every image to the versions in .env and the package version, and hardens every container', () => {
      const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      const allowed = new Set([
        `envoyproxy/envoy:v${String(versions.ENVOY_VERSION)}`,
        `openzipkin/zipkin:${String(versions.ZIPKIN_VERSION)}`,
        `traced-envoy-mesh/services:${pkg.version}`,
      ]);
      for (const deployment of resources.filter((r) => r.kind === 'Deployment')) {
        for (const container of containersOf(deployment)) {
          const where = `${deployment.metadata.name}/${container.name}`;
          assert.ok(allowed.has(container.image), `${where}: ${container.image}`);
          const security = container.securityContext ?? {};
          assert.ok((security.runAsUser ?? 0) > 0, `${where} runs as a non-root uid`);
          assert.equal(security.allowPrivilegeEscalation, false, where);
          assert.equal(security.readOnlyRootFilesystem, true, where);
          assert.ok(container.readinessProbe && container.livenessProbe, `${where} has probes`);
          assert.ok(
            container.resources?.limits && container.resources.requests,
            `${where} has requests and limits`,
          );
        }
      }
    });
  });
}

describe("the sidecars overlay and the repo's Envoy configs", () => {
  const resources = build('sidecars');
  const configMaps = resources.filter((r) => r.kind === 'ConfigMap');

  it("holds exactly the repo's Envoy configs in its ConfigMaps", () => {
    for (const [name, file] of [
      ['front-envoy-config', 'envoy/front-envoy.yaml'],
      ['service1-envoy-config', 'envoy/service1-envoy.yaml'],
      ['service2-envoy-config', 'envoy/service2-envoy.yaml'],
      ['service3-envoy-config', 'envoy/service3-envoy.yaml'],
    ]) {
      const map = configMaps.find((r) => r.metadata.name === name || r.metadata.name.startsWith(`${name}-`));
      assert.equal(
        map?.data?.['envoy.yaml'],
        readFileSync(path.join(REPO_ROOT, file ?? ''), 'utf8'),
        `${String(name)} = ${String(file)}`,
      );
    }
  });

  it('has a Service with the right port for every address those configs use, and mounts each in the right pod', () => {
    const services = resources.filter((r) => r.kind === 'Service');
    for (const map of configMaps) {
      const envoy = parseEnvoyConfig(map.data?.['envoy.yaml'] ?? '', map.metadata.name);
      for (const cluster of envoy.clusters) {
        for (const { address: host, port } of cluster.endpoints) {
          if (host === '127.0.0.1') continue; // the pod's own loopback, shared by its containers
          const service = services.find((s) => s.metadata.name === host);
          const ports = (service?.spec as { ports?: { port: number }[] } | undefined)?.ports ?? [];
          assert.ok(
            ports.some((p) => p.port === port),
            `${map.metadata.name}: ${host}:${port} is a Service port`,
          );
        }
      }
    }
    for (const app of ['service1', 'service2', 'service3']) {
      const deployment = resources.find((r) => r.kind === 'Deployment' && r.metadata.name === app);
      const volumes = (
        deployment?.spec as { template: { spec: { volumes: { configMap: { name: string } }[] } } }
      ).template.spec.volumes;
      assert.ok(
        volumes.some((v) => v.configMap.name === `${app}-envoy-config`),
        `${app} mounts its own sidecar config`,
      );
      assert.deepEqual(
        containersOf(deployment ?? (resources[0] as Resource))
          .map((c) => c.name)
          .sort(),
        ['app', 'envoy'],
      );
    }
  });
});

describe('the istio overlay', () => {
  const resources = build('istio');
  it('asks for injection, has no hand-written sidecar or front proxy, and routes the gateway to service1', () => {
    assert.equal(
      resources.find((r) => r.kind === 'Namespace')?.metadata.labels?.['istio-injection'],
      'enabled',
    );
    assert.ok(!resources.some((r) => r.metadata.name === 'front-envoy'));
    for (const deployment of resources.filter((r) => r.kind === 'Deployment')) {
      assert.ok(!containersOf(deployment).some((c) => c.name === 'envoy'), deployment.metadata.name);
    }
    const telemetry = resources.find((r) => r.kind === 'Telemetry')?.spec as {
      tracing: { randomSamplingPercentage: number; providers: { name: string }[] }[];
    };
    assert.equal(telemetry.tracing[0]?.randomSamplingPercentage, 100);
    const route = resources.find((r) => r.kind === 'VirtualService')?.spec as {
      http: { route: { destination: { host: string } }[] }[];
    };
    assert.equal(route.http[0]?.route[0]?.destination.host, 'service1');
  });
});
