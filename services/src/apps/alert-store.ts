// service3's data: a small in-memory alert store. Each query runs in the child span `query-alert-store`,
// the work the gRPC app does on its own that no sidecar can see.
import { tracer } from '../tracing/tracing.js';
import type { AlertMessage__Output } from '../generated/alerts/v1/AlertMessage.js';
import type { HistoryEntry__Output } from '../generated/alerts/v1/HistoryEntry.js';

const ALERTS: readonly AlertMessage__Output[] = [
  { id: 'alert-1003', severity: 'critical', text: 'service2 p99 latency above 500 ms' },
  { id: 'alert-1002', severity: 'warning', text: 'zipkin span queue above 80 %' },
  { id: 'alert-1001', severity: 'info', text: 'front-envoy config reloaded' },
];

const HISTORY: Readonly<Record<string, readonly HistoryEntry__Output[]>> = {
  'alert-1003': [
    { state: 'firing', at: '2026-11-20T09:12:00Z' },
    { state: 'acknowledged', at: '2026-11-20T09:14:30Z' },
  ],
  'alert-1002': [{ state: 'firing', at: '2026-11-20T08:40:00Z' }],
  'alert-1001': [
    { state: 'firing', at: '2026-11-19T17:00:00Z' },
    { state: 'resolved', at: '2026-11-19T17:01:00Z' },
  ],
};

function query<T>(statement: string, run: () => T): T {
  return tracer.startActiveSpan('query-alert-store', (span) => {
    span.setAttribute('db.system.name', 'in-memory');
    span.setAttribute('db.query.text', statement);
    try {
      return run();
    } finally {
      span.end();
    }
  });
}

export function listAlerts(severity: string, limit: number): AlertMessage__Output[] {
  const wanted = limit > 0 ? limit : ALERTS.length;
  return query('SELECT * FROM alerts WHERE severity = ? LIMIT ?', () =>
    ALERTS.filter((alert) => severity === '' || alert.severity === severity).slice(0, wanted),
  );
}

/** The history of one alert, or null when no such alert exists. */
export function alertHistory(id: string): HistoryEntry__Output[] | null {
  return query('SELECT * FROM alert_history WHERE alert_id = ?', () => {
    const entries = HISTORY[id];
    return entries ? [...entries] : null;
  });
}
