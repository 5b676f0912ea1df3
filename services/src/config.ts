// The environment contract of a service, validated once at start.
// A bad value must stop the process with one line that names the variable, the value and what is allowed,
// so a typo in docker-compose.yaml is found in the first second, not in a broken trace later.
import { z } from 'zod';

export const TRACING_MODES = ['otel', 'forward', 'off'] as const;
export type TracingMode = (typeof TRACING_MODES)[number];

export const ROLES = ['http', 'grpc'] as const;

export const TRACES_EXPORTERS = ['zipkin', 'otlp'] as const;

/** The propagators `otel` mode may use, by their OTEL_PROPAGATORS names. */
export const PROPAGATORS = ['tracecontext', 'baggage', 'b3multi'] as const;
export type Propagator = (typeof PROPAGATORS)[number];
export type TracesExporter = (typeof TRACES_EXPORTERS)[number];
export type Role = (typeof ROLES)[number];

export interface ListenAddress {
  host: string;
  port: number;
}

/** Where this service sends its one downstream call, if anywhere. */
export type NextHop = { protocol: 'http'; url: URL } | { protocol: 'grpc'; target: string };

export interface ServiceConfig {
  serviceName: string;
  role: Role;
  listen: ListenAddress;
  nextHop: NextHop | null;
  tracingMode: TracingMode;
  /** Where `otel` mode sends the app's spans: Zipkin v2 JSON (the default mesh) or OTLP/HTTP (the OTel-tracer variant). */
  tracesExporter: TracesExporter;
  /** Which trace headers `otel` mode reads and writes: exactly the formats the mesh's proxies speak. */
  propagators: Propagator[];
  zipkinEndpoint: URL;
  otlpEndpoint: URL;
  downstreamTimeoutMs: number;
  shutdownTimeoutMs: number;
  logLevel: string;
}

/** The defaults of the optional variables (parsed like any given value); docs/architecture.md lists them. */
export const ENVIRONMENT_DEFAULTS = {
  LISTEN: '127.0.0.1:8080',
  TRACING_MODE: 'otel',
  TRACES_EXPORTER: 'zipkin',
  PROPAGATORS: 'tracecontext,baggage,b3multi',
  ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans',
  OTLP_ENDPOINT: 'http://jaeger:4318/v1/traces',
  DOWNSTREAM_TIMEOUT_MS: '2000',
  SHUTDOWN_TIMEOUT_MS: '10000',
  LOG_LEVEL: 'info',
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// compose writes `NEXT_HOP: ""` for "no next hop": an empty value means the same as an unset one.
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const milliseconds = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `must be a whole number of milliseconds from 1 to ${max}` })
    .transform(Number)
    .refine((ms) => ms >= 1 && ms <= max, {
      error: `must be a whole number of milliseconds from 1 to ${max}`,
    });

const listenAddress = z.string().transform((value, ctx): ListenAddress => {
  const match = /^(?<host>[A-Za-z0-9.\-_]+|\[[0-9A-Fa-f:]+\]):(?<port>\d{1,5})$/.exec(value);
  const port = Number(match?.groups?.port);
  if (!match?.groups?.host || port < 1 || port > 65535) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:8080',
    });
    return z.NEVER;
  }
  return { host: match.groups.host.replace(/^\[|\]$/g, ''), port };
});

const nextHop = z.string().transform((value, ctx): NextHop => {
  const allowed = 'must be an http:// URL (e.g. http://127.0.0.1:9000/trace/2), grpc://HOST:PORT, or empty';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: allowed });
    return z.NEVER;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return { protocol: 'http', url };
  if (url.protocol === 'grpc:' && url.hostname && url.port && (url.pathname === '' || url.pathname === '/')) {
    return { protocol: 'grpc', target: `${url.hostname}:${url.port}` };
  }
  ctx.addIssue({ code: 'custom', message: allowed });
  return z.NEVER;
});

const environmentSchema = z
  .object({
    SERVICE_NAME: z
      .string({ error: 'is required (the Zipkin service name of this app, e.g. service1)' })
      .regex(/^[a-z][a-z0-9-]{0,62}$/, {
        error: 'must be lowercase letters, digits and dashes, starting with a letter (e.g. service1)',
      }),
    ROLE: z.enum(ROLES, { error: `is required and must be one of: ${ROLES.join(', ')}` }),
    LISTEN: listenAddress.prefault(ENVIRONMENT_DEFAULTS.LISTEN),
    NEXT_HOP: optional(nextHop),
    TRACING_MODE: z
      .enum(TRACING_MODES, { error: `must be one of: ${TRACING_MODES.join(', ')}` })
      .prefault(ENVIRONMENT_DEFAULTS.TRACING_MODE),
    TRACES_EXPORTER: z
      .enum(TRACES_EXPORTERS, { error: `must be one of: ${TRACES_EXPORTERS.join(', ')}` })
      .prefault(ENVIRONMENT_DEFAULTS.TRACES_EXPORTER),
    PROPAGATORS: z
      .string()
      .transform((value, ctx): Propagator[] => {
        const names = value.split(',').map((name) => name.trim());
        const unknown = names.filter((name) => !(PROPAGATORS as readonly string[]).includes(name));
        if (unknown.length > 0 || names.length === 0) {
          ctx.addIssue({
            code: 'custom',
            message: `must be a comma-separated list of: ${PROPAGATORS.join(', ')}`,
          });
          return z.NEVER;
        }
        return names as Propagator[];
      })
      .prefault(ENVIRONMENT_DEFAULTS.PROPAGATORS),
    ZIPKIN_ENDPOINT: z
      .url({ protocol: /^https?$/, error: 'must be an http:// URL such as http://zipkin:9411/api/v2/spans' })
      .prefault(ENVIRONMENT_DEFAULTS.ZIPKIN_ENDPOINT),
    OTLP_ENDPOINT: z
      .url({ protocol: /^https?$/, error: 'must be an http:// URL such as http://jaeger:4318/v1/traces' })
      .prefault(ENVIRONMENT_DEFAULTS.OTLP_ENDPOINT),
    DOWNSTREAM_TIMEOUT_MS: milliseconds(60_000).prefault(ENVIRONMENT_DEFAULTS.DOWNSTREAM_TIMEOUT_MS),
    SHUTDOWN_TIMEOUT_MS: milliseconds(120_000).prefault(ENVIRONMENT_DEFAULTS.SHUTDOWN_TIMEOUT_MS),
    LOG_LEVEL: z
      .enum(LOG_LEVELS, { error: `must be one of: ${LOG_LEVELS.join(', ')}` })
      .prefault(ENVIRONMENT_DEFAULTS.LOG_LEVEL),
  })
  .superRefine((env, ctx) => {
    // The gRPC app is the leaf of the chain; the HTTP apps may call HTTP or gRPC.
    if (env.ROLE === 'grpc' && env.NEXT_HOP) {
      ctx.addIssue({
        code: 'custom',
        path: ['NEXT_HOP'],
        message: 'must be empty when ROLE=grpc (the gRPC app is a leaf)',
      });
    }
  });

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): ServiceConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const value = env[name];
        const shown = value === undefined ? '(unset)' : JSON.stringify(value);
        return `invalid environment: ${name}=${shown} ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  return {
    serviceName: e.SERVICE_NAME,
    role: e.ROLE,
    listen: e.LISTEN,
    nextHop: e.NEXT_HOP ?? null,
    tracingMode: e.TRACING_MODE,
    tracesExporter: e.TRACES_EXPORTER,
    propagators: e.PROPAGATORS,
    zipkinEndpoint: new URL(e.ZIPKIN_ENDPOINT),
    otlpEndpoint: new URL(e.OTLP_ENDPOINT),
    downstreamTimeoutMs: e.DOWNSTREAM_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
  };
}
