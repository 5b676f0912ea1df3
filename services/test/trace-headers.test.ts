import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { headersToCarry, TRACE_CONTEXT_HEADERS } from '../src/tracing/trace-headers.ts';

// What an app behind an Envoy sidecar receives: every trace header, plus some it must not carry.
const inbound = {
  ...Object.fromEntries(TRACE_CONTEXT_HEADERS.map((name) => [name, `value-of-${name}`])),
  host: 'service1',
  authorization: 'Bearer secret',
  'x-forwarded-for': '10.0.0.1',
};

describe('headersToCarry', () => {
  it('copy (forward mode, and unsampled in otel): every listed trace header, exactly as received, and nothing else', () => {
    const carried = headersToCarry(inbound, 'copy');
    assert.deepEqual(Object.keys(carried), [...TRACE_CONTEXT_HEADERS]);
    for (const name of TRACE_CONTEXT_HEADERS) assert.equal(carried[name], `value-of-${name}`);
  });

  it('sdk (otel mode, a traced request): only the mesh headers the SDK propagators do not write', () => {
    assert.deepEqual(headersToCarry(inbound, 'sdk'), {
      'x-request-id': 'value-of-x-request-id',
      'x-ot-span-context': 'value-of-x-ot-span-context',
      'uber-trace-id': 'value-of-uber-trace-id',
      sw8: 'value-of-sw8',
    });
  });

  it('none (off mode): nothing', () => {
    assert.deepEqual(headersToCarry({ ...inbound, 'x-mesh-fault': 'service2-delay' }, 'none'), {});
  });

  it('carries the demo fault switch x-mesh-fault whoever writes the context', () => {
    for (const writer of ['sdk', 'copy'] as const) {
      assert.equal(
        headersToCarry({ 'x-mesh-fault': 'service3-abort' }, writer)['x-mesh-fault'],
        'service3-abort',
      );
    }
  });

  it('carries a header Node joined from repeats as the joined string', () => {
    assert.deepEqual(headersToCarry({ 'x-request-id': 'a, b' }, 'copy'), { 'x-request-id': 'a, b' });
  });
});
