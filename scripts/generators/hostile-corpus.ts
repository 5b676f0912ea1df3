// The hostile trace-header corpus: generated here, kept in the repo as data (scripts/test/data/hostile-headers.json,
// `make generate`; a test fails when it is stale), and sent through the front proxy by the reliability tests.
import path from 'node:path';
import { REPO_ROOT } from '../repo.ts';

export interface HostileCase {
  name: string;
  /** Header lines in order; a name may repeat. Values are written byte for byte (latin1). */
  headers: [string, string][];
}

export const CORPUS_FILE = path.join(REPO_ROOT, 'scripts', 'test', 'data', 'hostile-headers.json');

const hex = (length: number, digit = 'a') => digit.repeat(length);
const T = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'; // a valid 128-bit trace id
const S = '0123456789abcdef'; // a valid span id
const LATIN1 = 'caf\u00e9-\u00ff';
const UTF8_AS_BYTES = Buffer.from('трасса-追踪', 'utf8').toString('latin1');

const badIds = (width: number): [string, string][] => [
  ['empty', ''],
  ['one char', 'a'],
  ['one short', hex(width - 1)],
  ['one long', hex(width + 1)],
  ['double', hex(width * 2)],
  ['non-hex g', hex(width - 1, 'a') + 'g'],
  ['non-hex space', `${hex(width / 2)} ${hex(width / 2 - 1)}`],
  ['upper case', hex(width, 'A')],
  ['all zero', hex(width, '0')],
  ['latin1', LATIN1],
  ['utf-8 bytes', UTF8_AS_BYTES],
  ['sign', `-${hex(width - 1)}`],
];

/** One case: a name and its header lines. */
const hostile = (name: string, ...headers: [string, string][]): HostileCase => ({ name, headers });
const traceparent = (version: string, trace: string, span: string, flags: string) =>
  `${version}-${trace}-${span}-${flags}`;
const VALID_TRACEPARENT: [string, string] = ['traceparent', traceparent('00', T, S, '01')];

/** B3 multi-header: each of x-b3-traceid (128 and 64 bits), -spanid, -parentspanid, -sampled and -flags broken. */
function b3MultiHeaderCases(): HostileCase[] {
  return [
    ...badIds(32).map(([what, id]) =>
      hostile(`x-b3-traceid ${what}`, ['x-b3-traceid', id], ['x-b3-spanid', S], ['x-b3-sampled', '1']),
    ),
    ...badIds(16).map(([what, id]) =>
      hostile(`x-b3-traceid 64-bit ${what}`, ['x-b3-traceid', id.slice(0, 16) || id], ['x-b3-spanid', S]),
    ),
    ...badIds(16).map(([what, id]) =>
      hostile(`x-b3-spanid ${what}`, ['x-b3-traceid', T], ['x-b3-spanid', id], ['x-b3-sampled', '1']),
    ),
    ...badIds(16).map(([what, id]) =>
      hostile(
        `x-b3-parentspanid ${what}`,
        ['x-b3-traceid', T],
        ['x-b3-spanid', S],
        ['x-b3-parentspanid', id],
      ),
    ),
    ...['2', '-1', 'true', 'yes', ' 1', '', '01', 'd', LATIN1].map((sampled) =>
      hostile(
        `x-b3-sampled "${sampled}"`,
        ['x-b3-traceid', T],
        ['x-b3-spanid', S],
        ['x-b3-sampled', sampled],
      ),
    ),
    ...['2', '0', 'debug', '11', '-1', ''].map((flags) =>
      hostile(`x-b3-flags "${flags}"`, ['x-b3-traceid', T], ['x-b3-spanid', S], ['x-b3-flags', flags]),
    ),
  ];
}

/** B3 single header (`b3`): broken ids, sampling states and shapes. */
function b3SingleHeaderCases(): HostileCase[] {
  const shapes = [
    '-',
    '--',
    '---',
    '0',
    'd',
    T,
    `${T}-`,
    `${T}-${S}-x`,
    `${T}-${S}-1-`,
    `${T}-${S}-1-${hex(15)}`,
    `${T}-${S}-1-${S}-extra`,
    'garbage',
  ];
  return [
    ...badIds(32).map(([what, id]) => hostile(`b3 trace id ${what}`, ['b3', `${id}-${S}-1`])),
    ...badIds(16).map(([what, id]) => hostile(`b3 span id ${what}`, ['b3', `${T}-${id}-1`])),
    ...shapes.map((value) => hostile(`b3 "${value.slice(0, 40)}"`, ['b3', value])),
    ...['2', 'x', 'true', '-1', '11'].map((sampled) =>
      hostile(`b3 sampled "${sampled}"`, ['b3', `${T}-${S}-${sampled}`]),
    ),
  ];
}

/** W3C trace context: traceparent's version, ids, flags and shape broken; tracestate broken beside a valid one. */
function w3cTraceContextCases(): HostileCase[] {
  const shapes = [
    `00_${T}_${S}_01`,
    `00-${T}-${S}-01-extra`,
    ` 00-${T}-${S}-01 `,
    `00-${T}${S}-01`,
    '00-',
    `00--${S}-01`,
  ];
  const tracestates = [
    ['oversized', `k=${'v'.repeat(600)}`],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
    ['upper-case key', 'Key=v'],
    ['no =', 'novalue'],
    ['empty key', '=v'],
    ['separators only', ',,,;;;'],
    ['latin1', `k=${LATIN1}`],
    ['duplicate keys', 'k=1,k=2'],
  ] as const;
  return [
    ...['ff', '0', '000', 'zz', '01x', ''].map((version) =>
      hostile(`traceparent version "${version}"`, ['traceparent', traceparent(version, T, S, '01')]),
    ),
    ...badIds(32).map(([what, id]) =>
      hostile(`traceparent trace id ${what}`, ['traceparent', traceparent('00', id, S, '01')]),
    ),
    ...badIds(16).map(([what, id]) =>
      hostile(`traceparent parent id ${what}`, ['traceparent', traceparent('00', T, id, '01')]),
    ),
    ...badIds(32).map(([what, id]) =>
      hostile(`traceparent unsampled, trace id ${what}`, ['traceparent', traceparent('00', id, S, '00')]),
    ),
    ...['zz', '1', '001', '', 'ff', '-1'].map((flags) =>
      hostile(`traceparent flags "${flags}"`, ['traceparent', traceparent('00', T, S, flags)]),
    ),
    ...shapes.map((value) => hostile(`traceparent shape "${value.slice(0, 30)}"`, ['traceparent', value])),
    ...tracestates.map(([what, state]) =>
      hostile(`tracestate ${what}`, VALID_TRACEPARENT, ['tracestate', state]),
    ),
  ];
}

/** x-request-id: the apps log it as the request's id, and Envoy marks a trace reason in one of its UUID's characters. */
function requestIdCases(): HostileCase[] {
  const ids = [
    ['not a UUID', 'not-a-uuid'],
    ['empty', ''],
    ['8 KiB', 'r'.repeat(8192)],
    ['spaces', 'a b c'],
    ['latin1', LATIN1],
    ['utf-8 bytes', UTF8_AS_BYTES],
    ['forced reason char', '4e25dfbf-538d-a0f3-bb19-5d2ea12b109d'],
    ['client reason char', '4e25dfbf-538d-b0f3-bb19-5d2ea12b109d'],
    ['upper-case UUID', '4E25DFBF-538D-90F3-BB19-5D2EA12B109D'],
  ] as const;
  return ids.map(([what, id]) => hostile(`x-request-id ${what}`, ['x-request-id', id]));
}

/** The same header twice, and two formats that disagree about the trace. */
function repeatedAndConflictingCases(): HostileCase[] {
  return [
    hostile(
      'x-request-id twice',
      ['x-request-id', '4e25dfbf-538d-40f3-bb19-5d2ea12b109d'],
      ['x-request-id', '5f36e0c0-649e-41f4-8c2a-6e3fb23c210e'],
    ),
    hostile(
      'x-b3-traceid twice, different',
      ['x-b3-traceid', T],
      ['x-b3-traceid', hex(32, 'b')],
      ['x-b3-spanid', S],
    ),
    hostile('x-b3-spanid twice', ['x-b3-traceid', T], ['x-b3-spanid', S], ['x-b3-spanid', hex(16, 'c')]),
    hostile('traceparent twice', VALID_TRACEPARENT, [
      'traceparent',
      traceparent('00', hex(32, 'b'), S, '01'),
    ]),
    hostile('b3 twice', ['b3', `${T}-${S}-1`], ['b3', `${hex(32, 'b')}-${S}-0`]),
    hostile(
      'b3 and x-b3 disagree',
      ['b3', `${T}-${S}-1`],
      ['x-b3-traceid', hex(32, 'b')],
      ['x-b3-spanid', S],
    ),
    hostile(
      'b3 and traceparent disagree',
      ['b3', `${T}-${S}-1`],
      ['traceparent', traceparent('00', hex(32, 'b'), S, '01')],
    ),
  ];
}

/** Oversized values, up to past Envoy's 60 KiB header limit. */
function oversizedCases(): HostileCase[] {
  return [
    ...[4096, 16_384, 40_000].flatMap((size) => [
      hostile(`traceparent ${size} bytes`, ['traceparent', `00-${T}-${S}-01-${'x'.repeat(size)}`]),
      hostile(`x-b3-traceid ${size} bytes`, ['x-b3-traceid', hex(size)]),
      hostile(`tracestate ${size} bytes`, VALID_TRACEPARENT, ['tracestate', `k=${'v'.repeat(size)}`]),
    ]),
    hostile(
      'headers over 60 KiB in all',
      ...Array.from({ length: 8 }, (_, i) => [`x-pad-${i}`, 'p'.repeat(8000)] as [string, string]),
    ),
  ];
}

/** Formats nothing in the mesh speaks (Jaeger, SkyWalking, OpenTracing, baggage): they must pass through harmlessly. */
function otherFormatCases(): HostileCase[] {
  const values = [
    ['uber-trace-id', ':::'],
    ['uber-trace-id', `${T}:${S}:0:zz`],
    ['sw8', 's'.repeat(4000)],
    ['sw8', '1-!!-!!'],
    ['x-ot-span-context', ';;;'],
    ['baggage', 'k=v'.repeat(2000)],
    ['baggage', '=;=,=,'],
  ] as const;
  return [
    ...badIds(32).map(([what, id]) =>
      hostile(`uber-trace-id trace id ${what}`, ['uber-trace-id', `${id}:${S}:0:1`]),
    ),
    ...values.map(([name, value]) => hostile(`${name} "${value.slice(0, 20)}"`, [name, value])),
  ];
}

export function generateCorpus(): HostileCase[] {
  return [
    ...b3MultiHeaderCases(),
    ...b3SingleHeaderCases(),
    ...w3cTraceContextCases(),
    ...requestIdCases(),
    ...repeatedAndConflictingCases(),
    ...oversizedCases(),
    ...otherFormatCases(),
  ];
}
