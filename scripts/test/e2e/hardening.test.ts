// The edge and the mesh under hostile input and from the wrong place: a generated corpus of malformed trace
// headers through the front proxy, and what each namespace can and cannot reach.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CORPUS_FILE, generateCorpus, type HostileCase } from '../../generators/hostile-corpus.ts';
import { rawGet, type RawResponse } from './raw-http.ts';
import { buildActualTrace, loadExpectedTraces, renderTree, sameShape } from '../../trace-check/trace-tree.ts';
import { envoyCounterSum } from './mesh-counters.ts';
import { afterEnvoyFlush, assertWholeOtelTrace, meshFor } from './support.ts';
import { REPO_ROOT } from '../../repo.ts';

const corpus = JSON.parse(readFileSync(CORPUS_FILE, 'utf8')) as HostileCase[];
const VALID_ID = /^([0-9a-f]{16}|[0-9a-f]{32})$/;

describe('the hostile trace-header corpus', () => {
  it('is committed, current (make generate) and has at least 200 cases', () => {
    assert.deepEqual(corpus, generateCorpus());
    assert.ok(corpus.length >= 200, `${corpus.length} cases`);
  });
});

describe('hostile trace headers through the front proxy (otel mode)', () => {
  const under = meshFor('zipkin', 'otel');
  const answers: { name: string; response: RawResponse }[] = [];
  /** Span reports the Envoys dropped (their own counter, read through each admin API inside its container). */
  const droppedReports = () => envoyCounterSum(under.mesh, 'tracing.zipkin.reports_dropped');

  /** The Envoys' count before the corpus: a mesh that ran before (an outage, say) may have dropped some. */
  let droppedBefore = 0;

  it('answers every case: no 5xx, no hang; Envoy may refuse over-size headers with a 4xx', async () => {
    droppedBefore = await droppedReports();
    for (const hostile of corpus) {
      answers.push({
        name: hostile.name,
        response: await rawGet(under.frontPort, '/trace/1', hostile.headers),
      });
    }
    const serverErrors = answers.filter((a) => a.response.status >= 500);
    assert.deepEqual(
      serverErrors.map((a) => `${a.name}: ${a.response.status} ${a.response.body.slice(0, 120)}`),
      [],
    );
    const refused = answers.filter((a) => a.response.status >= 400);
    // Counted separately, and each must be Envoy's own answer (never one of our apps').
    for (const a of refused)
      assert.equal(a.response.headers.server, 'envoy', `${a.name} refused by ${a.response.headers.server}`);
    const served = answers.filter((a) => a.response.status === 200).length;
    console.log(
      `hostile corpus: ${corpus.length} cases, ${served} served (200), ${refused.length} refused by Envoy (4xx)`,
    );
    assert.equal(served + refused.length, corpus.length);
  });

  it('leaves every container running, healthy and free of error logs', async () => {
    for (const service of under.mesh.project.services.keys()) {
      assert.ok(under.mesh.pid(service), `${service} still runs`);
      assert.ok(under.mesh.isHealthy(service), `${service} is healthy`);
    }
    for (const app of under.mesh.apps) {
      const log = await under.mesh.logs(app, 100_000);
      const errors = log.split('\n').filter((line) => /"level":(50|60)/.test(line));
      assert.deepEqual(errors, [], `${app} logged errors`);
    }
  });

  it('drops an all-zero caller trace id at the edge: the request gets a complete trace of its own', async () => {
    const zero = '0'.repeat(32);
    const response = await rawGet(under.frontPort, '/trace/1', [
      ['x-b3-traceid', zero],
      ['x-b3-spanid', '0123456789abcdef'],
      ['x-b3-sampled', '1'],
    ]);
    assert.equal(response.status, 200);
    const traceId = response.headers['x-b3-traceid'] ?? '';
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(traceId, zero);
    const trace = await assertWholeOtelTrace(under.store, traceId);
    assert.deepEqual(trace.orphans, [], 'no span points at the caller context that was dropped');
  });

  it('makes one well-formed trace for every request that has a trace of its own', async () => {
    const expected = loadExpectedTraces().otel.tree;
    // Several cases send the same caller context on purpose; every other trace id belongs to one request, whose
    // trace must be exactly the expected tree. Only front-envoy's root span may point outside it (to the caller's
    // span, when the caller's context was usable: Envoy even accepts, and rewrites, some malformed ids).
    const requestsById = new Map<string, string[]>();
    for (const { name, response } of answers) {
      const id = response.headers['x-b3-traceid'];
      // Envoy leaves some malformed B3 contexts as they came and does not trace the request (its answer then
      // echoes the caller's value): counted below, not followed.
      if (response.status === 200 && id && VALID_ID.test(id)) {
        requestsById.set(id.slice(-16), [...(requestsById.get(id.slice(-16)) ?? []), name]);
      }
    }
    const own = answers.filter(
      ({ response }) => requestsById.get(response.headers['x-b3-traceid']?.slice(-16) ?? '')?.length === 1,
    );
    const last = own.at(-1);
    assert.ok(last);
    // Every Envoy flushes at least once per flush interval; twice that, and every span that will arrive has arrived.
    await afterEnvoyFlush();
    await afterEnvoyFlush();
    // Zipkin refuses a report with an all-zero trace id in it, and Envoy then drops the whole batch, other
    // requests' spans included. The edge listener removes such contexts, so no report may be dropped.
    assert.equal(
      (await droppedReports()) - droppedBefore,
      0,
      'span reports dropped by an Envoy (tracing.zipkin.reports_dropped)',
    );
    let newTraces = 0;
    for (const { name, response } of own) {
      const traceId = response.headers['x-b3-traceid'] ?? '';
      const spans = await under.store.trace(traceId);
      if (spans.length === 0) continue; // the caller's context said "not sampled": rightly no spans
      const trace = buildActualTrace(spans);
      assert.ok(sameShape([expected], trace.roots), `${name}: trace ${traceId}:\n${renderTree(trace.roots)}`);
      const outside = trace.orphans.filter((span) => span.localEndpoint?.serviceName !== 'front-envoy');
      assert.deepEqual(outside, [], `${name}: only front-envoy's root span may point outside the trace`);
      if (trace.orphans.length === 0) {
        newTraces += 1;
        assert.match(traceId, /^[0-9a-f]{32}$/, `${name}: a new trace gets a 128-bit id`);
      }
    }
    const untraced = answers.filter(
      ({ response }) => response.status === 200 && !VALID_ID.test(response.headers['x-b3-traceid'] ?? ''),
    ).length;
    console.log(
      `hostile corpus: ${own.length} requests with a trace of their own, all well-formed (${newTraces} new); ${untraced} not traced by Envoy`,
    );
    assert.ok(newTraces > 0 && own.length > 0);
  });
});

describe('exposure: admin ports, egress listeners and apps are not reachable from other containers', () => {
  const under = meshFor('zipkin', 'otel');

  /** An HTTP GET from inside `from`'s container; true when something accepted it and answered HTTP. */
  const answers = async (from: string, url: string) => (await under.mesh.httpFrom(from, url)).status !== 0;

  it("from front-envoy's container: no app port, egress listener or admin API of another service answers", async () => {
    for (const service of ['service1', 'service2', 'service3']) {
      const ip = under.mesh.ip(service);
      assert.match(ip, /^172\.31\.81\.\d+$/);
      assert.equal(
        await answers('front-envoy', `http://${ip}:8000/healthz`),
        true,
        `${service}'s ingress answers`,
      );
      for (const port of [8080, 9000, 9901])
        assert.equal(await answers('front-envoy', `http://${ip}:${port}/`), false, `${service}:${port}`);
    }
  });

  it("from a service's container: front-envoy's admin API (direct and proxied) does not answer", async () => {
    assert.equal(await answers('service1', 'http://front-envoy:19901/ready'), false);
    assert.equal(
      await answers('service1', 'http://front-envoy:9901/ready'),
      false,
      'the admin_from_host listener refuses containers',
    );
    assert.equal(
      await answers('service1', 'http://front-envoy:8000/healthz'),
      true,
      'while the mesh entry answers',
    );
  });

  it("front-envoy's admin API answers on the host's loopback", async () => {
    const response = await fetch(`${under.mesh.publishedUrl('front-envoy', 9901)}/ready`);
    assert.equal(response.status, 200);
    assert.equal((await response.text()).trim(), 'LIVE');
  });

  it('ignores x-envoy-* control headers from outside callers', async () => {
    // If honoured, a 1 ms upstream timeout would make this a 504.
    const response = await fetch(`${under.front}/trace/1`, {
      headers: { 'x-envoy-upstream-rq-timeout-ms': '1', 'x-envoy-max-retries': '5' },
    });
    assert.equal(response.status, 200);
  });

  it('runs every container as a non-root user', () => {
    // Upstream images name their user in compose; the project's own image sets it in its Dockerfile.
    for (const service of under.mesh.project.services.values()) {
      if (!under.mesh.apps.includes(service.name))
        assert.ok(
          service.user && !/^(0|root)(:|$)/.test(service.user),
          `${service.name} sets a non-root user`,
        );
    }
    assert.match(readFileSync(path.join(REPO_ROOT, 'services', 'Dockerfile'), 'utf8'), /^USER node$/m);
    for (const service of under.mesh.project.services.keys()) {
      const pid = under.mesh.pid(service);
      assert.ok(pid, `${service} runs`);
      const uid = /^Uid:\s+(\d+)\s/m.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1];
      assert.notEqual(uid, '0', `${service}'s main process runs as uid ${String(uid)}, not root`);
    }
  });
});
