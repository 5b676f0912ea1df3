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

export function generateCorpus(): HostileCase[] {
  const cases: HostileCase[] = [];
  const add = (name: string, ...headers: [string, string][]) => cases.push({ name, headers });

  for (const [what, id] of badIds(32))
    add(`x-b3-traceid ${what}`, ['x-b3-traceid', id], ['x-b3-spanid', S], ['x-b3-sampled', '1']);
  for (const [what, id] of badIds(16))
    add(`x-b3-traceid 64-bit ${what}`, ['x-b3-traceid', id.slice(0, 16) || id], ['x-b3-spanid', S]);
  for (const [what, id] of badIds(16))
    add(`x-b3-spanid ${what}`, ['x-b3-traceid', T], ['x-b3-spanid', id], ['x-b3-sampled', '1']);
  for (const [what, id] of badIds(16))
    add(`x-b3-parentspanid ${what}`, ['x-b3-traceid', T], ['x-b3-spanid', S], ['x-b3-parentspanid', id]);
  for (const sampled of ['2', '-1', 'true', 'yes', ' 1', '', '01', 'd', LATIN1]) {
    add(`x-b3-sampled "${sampled}"`, ['x-b3-traceid', T], ['x-b3-spanid', S], ['x-b3-sampled', sampled]);
  }
  for (const flags of ['2', '0', 'debug', '11', '-1', '']) {
    add(`x-b3-flags "${flags}"`, ['x-b3-traceid', T], ['x-b3-spanid', S], ['x-b3-flags', flags]);
  }
  for (const [what, id] of badIds(32)) add(`b3 trace id ${what}`, ['b3', `${id}-${S}-1`]);
  for (const [what, id] of badIds(16)) add(`b3 span id ${what}`, ['b3', `${T}-${id}-1`]);
  for (const value of [
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
  ]) {
    add(`b3 "${value.slice(0, 40)}"`, ['b3', value]);
  }
  const traceparent = (version: string, trace: string, span: string, flags: string) =>
    `${version}-${trace}-${span}-${flags}`;
  for (const version of ['ff', '0', '000', 'zz', '01x', ''])
    add(`traceparent version "${version}"`, ['traceparent', traceparent(version, T, S, '01')]);
  for (const [what, id] of badIds(32))
    add(`traceparent trace id ${what}`, ['traceparent', traceparent('00', id, S, '01')]);
  for (const [what, id] of badIds(16))
    add(`traceparent parent id ${what}`, ['traceparent', traceparent('00', T, id, '01')]);
  for (const [what, id] of badIds(32))
    add(`traceparent unsampled, trace id ${what}`, ['traceparent', traceparent('00', id, S, '00')]);
  for (const [what, id] of badIds(32))
    add(`uber-trace-id trace id ${what}`, ['uber-trace-id', `${id}:${S}:0:1`]);
  for (const sampled of ['2', 'x', 'true', '-1', '11'])
    add(`b3 sampled "${sampled}"`, ['b3', `${T}-${S}-${sampled}`]);
  for (const flags of ['zz', '1', '001', '', 'ff', '-1'])
    add(`traceparent flags "${flags}"`, ['traceparent', traceparent('00', T, S, flags)]);
  for (const value of [
    `00_${T}_${S}_01`,
    `00-${T}-${S}-01-extra`,
    ` 00-${T}-${S}-01 `,
    `00-${T}${S}-01`,
    '00-',
    `00--${S}-01`,
  ]) {
    add(`traceparent shape "${value.slice(0, 30)}"`, ['traceparent', value]);
  }
  const validParent = ['traceparent', traceparent('00', T, S, '01')] as [string, string];
  for (const [what, state] of [
    ['oversized', `k=${'v'.repeat(600)}`],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
    ['upper-case key', 'Key=v'],
    ['no =', 'novalue'],
    ['empty key', '=v'],
    ['separators only', ',,,;;;'],
    ['latin1', `k=${LATIN1}`],
    ['duplicate keys', 'k=1,k=2'],
  ] as const) {
    add(`tracestate ${what}`, validParent, ['tracestate', state]);
  }
  for (const [what, id] of [
    ['not a UUID', 'not-a-uuid'],
    ['empty', ''],
    ['8 KiB', 'r'.repeat(8192)],
    ['spaces', 'a b c'],
    ['latin1', LATIN1],
    ['utf-8 bytes', UTF8_AS_BYTES],
    ['forced reason char', '4e25dfbf-538d-a0f3-bb19-5d2ea12b109d'],
    ['client reason char', '4e25dfbf-538d-b0f3-bb19-5d2ea12b109d'],
    ['upper-case UUID', '4E25DFBF-538D-90F3-BB19-5D2EA12B109D'],
  ] as const) {
    add(`x-request-id ${what}`, ['x-request-id', id]);
  }
  add(
    'x-request-id twice',
    ['x-request-id', '4e25dfbf-538d-40f3-bb19-5d2ea12b109d'],
    ['x-request-id', '5f36e0c0-649e-41f4-8c2a-6e3fb23c210e'],
  );
  add(
    'x-b3-traceid twice, different',
    ['x-b3-traceid', T],
    ['x-b3-traceid', hex(32, 'b')],
    ['x-b3-spanid', S],
  );
  add('x-b3-spanid twice', ['x-b3-traceid', T], ['x-b3-spanid', S], ['x-b3-spanid', hex(16, 'c')]);
  add('traceparent twice', validParent, ['traceparent', traceparent('00', hex(32, 'b'), S, '01')]);
  add('b3 twice', ['b3', `${T}-${S}-1`], ['b3', `${hex(32, 'b')}-${S}-0`]);
  add('b3 and x-b3 disagree', ['b3', `${T}-${S}-1`], ['x-b3-traceid', hex(32, 'b')], ['x-b3-spanid', S]);
  add(
    'b3 and traceparent disagree',
    ['b3', `${T}-${S}-1`],
    ['traceparent', traceparent('00', hex(32, 'b'), S, '01')],
  );
  for (const size of [4096, 16_384, 40_000]) {
    add(`traceparent ${size} bytes`, ['traceparent', `00-${T}-${S}-01-${'x'.repeat(size)}`]);
    add(`x-b3-traceid ${size} bytes`, ['x-b3-traceid', hex(size)]);
    add(`tracestate ${size} bytes`, validParent, ['tracestate', `k=${'v'.repeat(size)}`]);
  }
  add(
    'headers over 60 KiB in all',
    ...Array.from({ length: 8 }, (_, i) => [`x-pad-${i}`, 'p'.repeat(8000)] as [string, string]),
  );
  for (const [name, value] of [
    ['uber-trace-id', ':::'],
    ['uber-trace-id', `${T}:${S}:0:zz`],
    ['sw8', 's'.repeat(4000)],
    ['sw8', '1-!!-!!'],
    ['x-ot-span-context', ';;;'],
    ['baggage', 'k=v'.repeat(2000)],
    ['baggage', '=;=,=,'],
  ] as const) {
    add(`${name} "${value.slice(0, 20)}"`, [name, value]);
  }
  return cases;
}
