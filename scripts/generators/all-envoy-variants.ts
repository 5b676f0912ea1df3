// Every generated variant of the Envoy configs, each in envoy/generated/<name>/ (make generate writes them; a test
// holds what is committed to what it writes).
import { COLLECTOR_VARIANT, OTEL_TRACER_COLLECTOR_VARIANT } from './collector-variant.ts';
import type { EnvoyVariant } from './envoy-variant.ts';
import { OTEL_TRACER_VARIANT } from './otel-tracer-variant.ts';

export const ENVOY_VARIANTS: readonly EnvoyVariant[] = [
  OTEL_TRACER_VARIANT,
  COLLECTOR_VARIANT,
  OTEL_TRACER_COLLECTOR_VARIANT,
];
