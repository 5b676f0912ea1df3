// docker-compose.yaml (and the Jaeger override merged on top) against the Compose schema (dclint), and against
// the Envoy configs and the services' environment contract (the consistency checks).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  composeVariables,
  ComposeError,
  isApp,
  loadCompose,
  composeConfigDocument,
} from '../mesh/compose.ts';
import { loadExpectedTraces, type TreeNode } from '../trace-check/trace-tree.ts';
import { checkConsistency, checkImages } from '../config-checks/consistency.ts';
import {
  COLLECTOR_SERVICE,
  MESH_VARIANT_NAMES,
  MESH_VARIANTS,
  REPO_ROOT,
  TRACE_STORE_SERVICE,
  composeFiles,
} from '../repo.ts';

const DCLINT = path.join(REPO_ROOT, 'node_modules', 'dclint', 'bin', 'dclint.cjs');

function dclint(files: string[]): void {
  try {
    execFileSync(process.execPath, [DCLINT, ...files], { cwd: REPO_ROOT, stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    assert.fail(`dclint found errors:\n${stdout}${stderr}`);
  }
}

/** The compose files `make … BACKEND=<backend>` passes to docker compose, as make itself expands them. */
function makeComposeFiles(backend: string): { files: string[]; error: string } {
  try {
    const out = execFileSync(
      'make',
      [
        '-s',
        '--no-print-directory',
        '--eval',
        'print-compose-files: ; @echo $(COMPOSE_FILES)',
        'print-compose-files',
        `BACKEND=${backend}`,
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', stdio: 'pipe' },
    );
    return {
      files: out
        .trim()
        .split(/\s+/)
        .filter((word) => word !== '-f'),
      error: '',
    };
  } catch (error) {
    return { files: [], error: (error as { stderr: string }).stderr };
  }
}

describe('compose files', () => {
  for (const variant of MESH_VARIANT_NAMES) {
    it(`make's BACKEND=${variant} names the files scripts/repo.ts names for it`, () => {
      assert.deepEqual(makeComposeFiles(variant).files, MESH_VARIANTS[variant].files);
    });
  }

  // The apps are the services of the expected trace that are not proxies; another image the project builds (the
  // collector's) must not count as one: an app gets recreated for each TRACING_MODE and checked for its LISTEN.
  const services = (node: TreeNode): string[] => [node.service, ...node.children.flatMap(services)];
  const traceApps = [...new Set(services(loadExpectedTraces().otel.tree))].filter(
    (s) => !s.endsWith('-envoy'),
  );
  for (const variant of MESH_VARIANT_NAMES) {
    it(`${variant}: the apps are the trace's apps, nothing else the project builds`, () => {
      const project = loadCompose(composeFiles(variant));
      const apps = [...project.services.values()].filter((s) => isApp(project, s)).map((s) => s.name);
      assert.deepEqual(apps.toSorted(), traceApps.toSorted());
    });
    // The scripts find the store and the collector by these names (scripts/repo.ts); a rename must reach them.
    it(`${variant}: runs the trace store as ${TRACE_STORE_SERVICE}, the collector as ${COLLECTOR_SERVICE} where its files add it`, () => {
      const services = loadCompose(composeFiles(variant)).services;
      assert.ok(services.has(TRACE_STORE_SERVICE), [...services.keys()].join(', '));
      const viaCollector = MESH_VARIANTS[variant].files.some((f) => f === 'docker-compose.collector.yaml');
      assert.equal(services.has(COLLECTOR_SERVICE), viaCollector, [...services.keys()].join(', '));
    });
  }

  it('make refuses an unknown BACKEND, naming every variant', () => {
    const { files, error } = makeComposeFiles('nope');
    assert.deepEqual(files, []);
    for (const variant of MESH_VARIANT_NAMES) assert.match(error, new RegExp(`\\b${variant}\\b`));
  });

  it('docker-compose.yaml passes dclint', () => {
    dclint(['docker-compose.yaml']);
  });

  it('the Jaeger override merged on top passes dclint', () => {
    const merged = composeConfigDocument(composeFiles('jaeger'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    const file = path.join(dir, 'docker-compose.merged.yaml');
    writeFileSync(file, stringify(merged));
    copyFileSync(path.join(REPO_ROOT, '.dclintrc.yaml'), path.join(dir, '.dclintrc.yaml'));
    dclint([file]);
    const services = merged.services as Record<string, { image?: string } | undefined>;
    assert.match(services[TRACE_STORE_SERVICE]?.image ?? '', /^jaegertracing\/jaeger:2\.\d+\.\d+$/);
  });

  for (const backend of MESH_VARIANT_NAMES) {
    it(`${backend}: compose, the Envoy configs and the services' environment agree`, () => {
      assert.deepEqual(checkConsistency(loadCompose(composeFiles(backend))), []);
    });
  }

  it('every image is pinned through .env', () => {
    assert.deepEqual(checkImages(composeFiles('otel-tracer')), []);
  });

  it('the otel-tracer files merged on top pass dclint', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    const file = path.join(dir, 'docker-compose.merged.yaml');
    writeFileSync(file, stringify(composeConfigDocument(composeFiles('otel-tracer'))));
    copyFileSync(path.join(REPO_ROOT, '.dclintrc.yaml'), path.join(dir, '.dclintrc.yaml'));
    dclint([file]);
  });

  it('the otel-tracer override replaces each Envoy config mount, not adds a second one', () => {
    const project = loadCompose(composeFiles('otel-tracer'));
    for (const name of ['front-envoy', 'service1-envoy', 'service2-envoy', 'service3-envoy']) {
      const mounts = project.services.get(name)?.mounts ?? [];
      assert.equal(mounts.length, 1);
      assert.match(mounts[0]?.source ?? '', /envoy\/generated\/otel-tracer\//);
    }
  });

  it('the Node version agrees across .env, the Dockerfile default and the node devDependency', () => {
    const version = composeVariables({}).NODE_VERSION;
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'services', 'Dockerfile'), 'utf8');
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    assert.match(dockerfile, new RegExp(`^ARG NODE_VERSION=${String(version)}$`, 'm'));
    assert.equal(pkg.devDependencies.node, version);
  });
});

describe('the consistency checks fail when the files disagree', () => {
  const broken = (edit: (text: string) => string) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-broken-'));
    const file = path.join(dir, 'docker-compose.yaml');
    writeFileSync(file, edit(readFileSync(path.join(REPO_ROOT, 'docker-compose.yaml'), 'utf8')));
    return loadCompose([file]);
  };

  /** The compose project with one mounted Envoy config (`repoFile`) replaced by an edited copy. */
  const brokenEnvoyConfig = (repoFile: string, edit: (text: string) => string) => {
    const config = path.join(mkdtempSync(path.join(os.tmpdir(), 'envoy-broken-')), path.basename(repoFile));
    writeFileSync(config, edit(readFileSync(path.join(REPO_ROOT, repoFile), 'utf8')));
    return broken((text) => text.replace(`./${repoFile}`, config));
  };

  it('names a NEXT_HOP that is not the sidecar egress', () => {
    const problems = checkConsistency(
      broken((text) => text.replace('http://127.0.0.1:9000/trace/2', 'http://127.0.0.1:9100/trace/2')),
    );
    assert.deepEqual(problems, [
      "docker-compose.yaml: services.service1.environment.NEXT_HOP http://127.0.0.1:9100/trace/2 is not its sidecar's egress listener",
    ]);
  });

  it('names an app LISTEN port the sidecar does not point at', () => {
    const problems = checkConsistency(
      broken((text) =>
        text.replace('SERVICE_NAME: service3', 'SERVICE_NAME: service3\n      LISTEN: 127.0.0.1:8081'),
      ),
    );
    assert.ok(
      problems.includes(
        'envoy/service3-envoy.yaml: cluster "local_app" endpoint 127.0.0.1:8080: nothing in service3-envoy\'s namespace listens on port 8080',
      ),
      problems.join('\n'),
    );
  });

  it("names an Envoy whose name lookups may wait glibc's default 5 s per nameserver", () => {
    const problems = checkConsistency(
      broken((text) => text.replace('    dns_opt: *envoy-dns-options\n    volumes:', '    volumes:')),
    );
    assert.deepEqual(problems, [
      'docker-compose.yaml: services.front-envoy.dns_opt is [], expected it to hold timeout:1',
    ]);
  });

  it('names Envoys that post spans at different flush intervals', () => {
    const problems = checkConsistency(
      brokenEnvoyConfig('envoy/service2-envoy.yaml', (text) =>
        text.replace(/(tracing\.zipkin\.flush_interval_ms:) \d+/, '$1 5000'),
      ),
    );
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /^the Envoys post spans at different flush_interval_ms: .*service2-envoy\.yaml 5000 ms/,
    );
  });

  it("names an SDK export delay later than the Envoys' flush interval", () => {
    const problems = checkConsistency(loadCompose(composeFiles('zipkin')), 'docker-compose.yaml', 5000);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /^services\/src\/tracing\/span-batching\.ts: scheduledDelayMillis 5000 ms is later than the Envoys' flush_interval_ms \(.*front-envoy\.yaml 500 ms/,
    );
  });

  it('names an Envoy that resolves names with c-ares', () => {
    const problems = checkConsistency(
      brokenEnvoyConfig('envoy/service3-envoy.yaml', (text) =>
        text.replace(/^typed_dns_resolver_config:\n(?: {2}.*\n)+/m, ''),
      ),
    );
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /service3-envoy\.yaml: typed_dns_resolver_config is envoy\.network\.dns_resolver\.cares, expected envoy\.network\.dns_resolver\.getaddrinfo$/,
    );
  });

  it('names a traced listener that writes no access log', () => {
    const problems = checkConsistency(
      brokenEnvoyConfig('envoy/service2-envoy.yaml', (text) =>
        text.replace('                access_log: *access-log\n', ''),
      ),
    );
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /service2-envoy\.yaml: listener "egress" traces but writes 0 access logs, expected 1$/,
    );
  });

  it("names an access log without the trace id, or with other fields than the other Envoys'", () => {
    const problems = checkConsistency(
      brokenEnvoyConfig('envoy/service3-envoy.yaml', (text) =>
        text.replace("traceId: '%TRACE_ID%'", "traceId: '%REQ(X-B3-TRACEID)%'"),
      ),
    );
    assert.deepEqual(
      problems.map((problem) => problem.replace(/^.*service3-envoy\.yaml/, 'service3-envoy.yaml')),
      [
        'service3-envoy.yaml: listener "ingress": access_log json_format has no traceId: \'%TRACE_ID%\'',
        'service3-envoy.yaml: listener "ingress": access_log json_format differs from envoy/front-envoy.yaml: listener "front"\'s',
      ],
    );
  });

  it("names a port published beyond the host's loopback", () => {
    const problems = checkConsistency(broken((text) => text.replace("'127.0.0.1:9411:9411'", "'9411:9411'")));
    assert.deepEqual(problems, [
      "docker-compose.yaml: services.trace-store.ports: 9411 is published on 0.0.0.0, not the host's 127.0.0.1",
    ]);
  });

  it('names a cluster that points at an internal listener the Envoy does not have', () => {
    const problems = checkConsistency(
      brokenEnvoyConfig('envoy/front-envoy.yaml', (text) =>
        text.replace('server_listener_name: front', 'server_listener_name: nope'),
      ),
    );
    assert.ok(
      problems.some((p) =>
        p.endsWith('cluster "front" names "nope", not an internal listener of this Envoy'),
      ),
      problems.join('\n'),
    );
  });

  it("names an Envoy internal range that is not the compose network's ip_range", () => {
    const problems = checkConsistency(
      broken((text) => text.replace('ip_range: 172.31.81.128/26', 'ip_range: 172.31.81.128/25')),
    );
    assert.ok(
      problems.includes(
        'envoy/front-envoy.yaml: listener "edge": internal_address_config 172.31.81.128/26 is not the compose network\'s ip_range (172.31.81.128/25)',
      ),
      problems.join('\n'),
    );
  });

  it('names a missing mounted config', () => {
    const problems = checkConsistency(
      broken((text) => text.replace('./envoy/service2-envoy.yaml', './envoy/nope.yaml')),
    );
    assert.ok(
      problems.includes(
        'docker-compose.yaml: services.service2-envoy.volumes: envoy/nope.yaml does not exist',
      ),
    );
  });

  it('names an image that does not come from .env', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-image-'));
    const file = path.join(dir, 'docker-compose.yaml');
    writeFileSync(file, 'services:\n  trace-store:\n    image: openzipkin/zipkin:latest\n');
    assert.deepEqual(checkImages([file]), [
      'docker-compose.yaml: services.trace-store.image "openzipkin/zipkin:latest" does not take its version from .env',
      'docker-compose.yaml: services.trace-store.image "openzipkin/zipkin:latest" uses a floating tag',
    ]);
  });

  it("passes on compose's own refusal of an unknown key, naming the key", () => {
    assert.throws(
      () => broken((text) => text.replace('    user: zipkin', '    user: zipkin\n    restart_always: true')),
      (error: unknown) => error instanceof ComposeError && /restart_always/.test(error.message),
    );
  });
});
