// Malformed trace headers never crash a service and never produce a 500: the request is served, as a new trace
// where the context cannot be read. Run through the whole chain, in the two modes that read or copy headers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildActualTrace,
  countSpans,
  loadExpectedTraces,
  sameShape,
  withoutProxies,
} from '../../scripts/trace-check/trace-tree.ts';
import { startChain, type Chain } from '../../scripts/loopback/chain.ts';

const hex = (length: number) => 'a1'.repeat(length).slice(0, length);
const ZERO32 = '0'.repeat(32);

/**
 * What must happen: `new`, the context is unreadable and the request starts a new trace; `kept`, only an optional
 * part is bad (tracestate, flags), so the valid trace id is rightly kept, as the W3C and B3 specs say.
 */
type Outcome = 'new' | 'kept';
const KEPT: Record<string, string> = {
  'x-b3-flags bad': 'e'.repeat(32), // no x-b3-sampled either: kept but not sampled, so no spans
  'tracestate oversized': 'b2'.repeat(16),
  'tracestate bad characters': 'c3'.repeat(16),
};
const outcomeOf = (what: string): Outcome => (what in KEPT ? 'kept' : 'new');

const CASES: [string, Record<string, string>][] = [
  ['x-b3-traceid not hex', { 'x-b3-traceid': 'z'.repeat(32), 'x-b3-spanid': hex(16), 'x-b3-sampled': '1' }],
  ['x-b3-traceid 31 chars', { 'x-b3-traceid': hex(31), 'x-b3-spanid': hex(16), 'x-b3-sampled': '1' }],
  ['x-b3-traceid 33 chars', { 'x-b3-traceid': hex(33), 'x-b3-spanid': hex(16), 'x-b3-sampled': '1' }],
  ['x-b3-traceid all zero', { 'x-b3-traceid': ZERO32, 'x-b3-spanid': hex(16), 'x-b3-sampled': '1' }],
  [
    'x-b3-spanid all zero',
    { 'x-b3-traceid': 'b'.repeat(32), 'x-b3-spanid': '0'.repeat(16), 'x-b3-sampled': '1' },
  ],
  ['x-b3-spanid not hex', { 'x-b3-traceid': 'c'.repeat(32), 'x-b3-spanid': 'xyz', 'x-b3-sampled': '1' }],
  ['x-b3-sampled bad', { 'x-b3-traceid': 'd'.repeat(32), 'x-b3-spanid': hex(16), 'x-b3-sampled': 'maybe' }],
  ['x-b3-flags bad', { 'x-b3-traceid': 'e'.repeat(32), 'x-b3-spanid': hex(16), 'x-b3-flags': '7' }],
  ['b3 garbage', { b3: 'garbage' }],
  ['b3 zero ids', { b3: `${ZERO32}-${'0'.repeat(16)}-1` }],
  ['b3 only dashes', { b3: '---' }],
  ['traceparent bad version', { traceparent: `ff-${hex(32)}-${hex(16)}-01` }],
  ['traceparent zero trace id', { traceparent: `00-${ZERO32}-${hex(16)}-01` }],
  ['traceparent short', { traceparent: `00-${hex(30)}-${hex(16)}-01` }],
  ['traceparent bad flags', { traceparent: `00-${hex(32)}-${hex(16)}-zz` }],
  ['traceparent upper case', { traceparent: `00-${hex(32).toUpperCase()}-${hex(16)}-01` }],
  [
    'tracestate oversized',
    { traceparent: `00-${'b2'.repeat(16)}-${hex(16)}-01`, tracestate: `k=${'v'.repeat(600)}` },
  ],
  [
    'tracestate bad characters',
    { traceparent: `00-${'c3'.repeat(16)}-${hex(16)}-01`, tracestate: '=;;==,,' },
  ],
  ['x-request-id not a UUID', { 'x-request-id': 'not-a-uuid' }],
  ['x-request-id 8 KiB', { 'x-request-id': 'r'.repeat(8192) }],
  ['x-request-id non-ASCII', { 'x-request-id': 'caf\u00e9-\u00ff' }],
  ['uber-trace-id garbage', { 'uber-trace-id': ':::' }],
  ['sw8 oversized', { sw8: 's'.repeat(4000) }],
];

async function send(chain: Chain, headers: Record<string, string>) {
  const response = await fetch(`${chain.entry}/trace/1`, {
    headers: { ...headers, accept: 'application/json' },
  });
  return { status: response.status, body: (await response.json()) as { traceId: string | null } };
}

async function assertAllHealthy(chain: Chain) {
  for (const service of [chain.service1, chain.service2, chain.service3]) {
    assert.equal(
      service.logs.filter((line) => line.level === 50 || line.level === 60).length,
      0,
      'no error logged',
    );
  }
  const health = await fetch(`${chain.entry}/healthz`);
  assert.equal(health.status, 200);
  assert.equal((await send(chain, {})).status, 200, 'the chain still serves a clean request');
}

describe('hostile trace headers, otel mode', () => {
  let chain: Chain;
  before(async () => (chain = await startChain('otel')));
  after(() => chain.stop());

  const sampledTraceIds: string[] = [];
  for (const [what, headers] of CASES) {
    const outcome = outcomeOf(what);
    it(`${what}: 200 and ${outcome === 'new' ? 'a new trace' : 'the valid trace id kept'}`, async () => {
      const { status, body } = await send(chain, headers);
      assert.equal(status, 200);
      assert.match(body.traceId ?? '', /^[0-9a-f]{32}$/);
      assert.notEqual(body.traceId, ZERO32);
      const given = [headers['x-b3-traceid'], headers.traceparent?.split('-')[1], headers.b3?.split('-')[0]];
      if (outcome === 'new') assert.ok(!given.includes(body.traceId ?? ''), `${String(body.traceId)} is new`);
      else assert.equal(body.traceId, KEPT[what]);
      if (what !== 'x-b3-flags bad') sampledTraceIds.push(body.traceId ?? '');
    });
  }

  it('every sampled request made a complete, well-formed trace', async () => {
    const want = withoutProxies(loadExpectedTraces().otel.tree);
    for (const traceId of sampledTraceIds) {
      const spans = await chain.sink.waitForTrace(traceId, countSpans(want));
      assert.ok(sameShape(want, buildActualTrace(spans).roots), `trace ${traceId} has the expected shape`);
    }
  });

  it('leaves every service healthy and error-free', () => assertAllHealthy(chain));
});

describe('hostile trace headers, forward mode (copied as they are, also into gRPC metadata)', () => {
  let chain: Chain;
  before(async () => (chain = await startChain('forward')));
  after(() => chain.stop());

  for (const [what, headers] of CASES) {
    it(`${what}: 200`, async () => {
      assert.equal((await send(chain, headers)).status, 200);
    });
  }

  it('leaves every service healthy and error-free', () => assertAllHealthy(chain));
});
