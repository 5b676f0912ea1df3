# The mesh's intents. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE := node_modules/.bin/node
TSX := $(NODE) --import tsx
NODE_TEST := $(TSX) --test --test-concurrency=1 --test-reporter=spec
# The mesh's suites: their files in one process, in the order given (scripts/test/in-order.ts says why).
IN_ORDER := $(TSX) --test-reporter=spec scripts/test/in-order.ts

.PHONY: help install tools engine engine-stop build lint test-services test-unit test-configs test-e2e test-reliability test run start stop status logs verify pins screenshot generate bench bench-apps profile-apps clean

# BACKEND=jaeger puts Jaeger where Zipkin was (docker-compose.jaeger.yaml); BACKEND=otel-tracer also swaps Envoy's
# Zipkin tracer for its OpenTelemetry tracer (docker-compose.otel-tracer.yaml); BACKEND=collector and
# jaeger-collector send every span through an OpenTelemetry Collector (docker-compose.collector.yaml), and
# otel-tracer-collector does so with Envoy's OpenTelemetry tracer (docker-compose.otel-tracer-collector.yaml);
# collector-tail-sampling keeps the traces with errors or slow requests and a tenth of the rest (docker-compose.tail-sampling.yaml).
# scripts/repo.ts names the same files (MESH_VARIANTS); a test holds the two together.
# TRACING_MODE=otel|forward|off is read by compose from the environment, as in `TRACING_MODE=off docker compose up`.
BACKEND ?= zipkin
COMPOSE_FILES_zipkin := -f docker-compose.yaml
COMPOSE_FILES_jaeger := $(COMPOSE_FILES_zipkin) -f docker-compose.jaeger.yaml
COMPOSE_FILES_otel-tracer := $(COMPOSE_FILES_jaeger) -f docker-compose.otel-tracer.yaml
COMPOSE_FILES_collector := $(COMPOSE_FILES_zipkin) -f docker-compose.collector.yaml
COMPOSE_FILES_jaeger-collector := $(COMPOSE_FILES_jaeger) -f docker-compose.collector.yaml
COMPOSE_FILES_otel-tracer-collector := $(COMPOSE_FILES_collector) -f docker-compose.otel-tracer-collector.yaml
COMPOSE_FILES_collector-tail-sampling := $(COMPOSE_FILES_collector) -f docker-compose.tail-sampling.yaml
COMPOSE_FILES = $(or $(COMPOSE_FILES_$(BACKEND)),$(error BACKEND must be zipkin, jaeger, otel-tracer, collector, jaeger-collector, otel-tracer-collector or collector-tail-sampling, not "$(BACKEND)"))
# Points the docker CLI at the engine (Docker as it is, or the project's Podman: scripts/engine/engine.sh).
WITH_ENGINE := eval "$$(scripts/engine/engine.sh env)" &&
COMPOSE = $(WITH_ENGINE) docker compose $(COMPOSE_FILES)

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error --engine-strict=false
	@touch $@

install: node_modules/.install-stamp ## install the npm dependencies (Node 24 comes with them)

tools: ## install the real Envoy, Zipkin, Jaeger, OpenTelemetry Collector and (where the docker CLI has none) Compose v2 into .tools/
	@scripts/install-tools.sh

# ENGINE=docker starts Debian's Docker Engine instead of Podman where no Docker answers (how CI proves both).
ENGINE ?=
engine: ## make a container engine answer: Docker if it runs, else the project's Podman (or ENGINE=docker) (Linux, root)
	@ENGINE='$(ENGINE)' scripts/engine/engine.sh up

engine-stop: ## stop the engine the project started (a Docker of yours is left alone)
	@scripts/engine/engine.sh down

build: install ## compile the services (TypeScript -> services/dist)
	@npm run --silent build

lint: install ## type-check, lint and format-check everything
	@npm run --silent typecheck
	@npm run --silent lint

test-services: build ## the services' tests (real processes on loopback, no Envoy)
	@$(NODE_TEST) services/test/*.test.ts

test-unit: lint test-services ## lint plus the services' tests

test-configs: install ## every Envoy config through the real Envoy; compose lint; the cross-file consistency checks
	@$(WITH_ENGINE) $(NODE_TEST) scripts/test/*.test.ts

# The end-to-end tests run the README's `docker compose up --build --wait` on the engine, and take the mesh down
# at the end whatever happened (a mesh of yours that was running is replaced). Each file brings the mesh to the
# state it needs, so they run in an order that changes the mesh least: Zipkin in otel mode first (the benchmark's
# smoke run leaves it so), then the other modes and the failures, then the lifecycle (it ends with `down`), the
# other backends and the collector path. A file not listed here runs after these.
E2E_ORDER := bench-smoke controls hardening zipkin-ui images mesh resilience lifecycle backends collector
E2E_TESTS := $(patsubst %,scripts/test/e2e/%.test.ts,$(E2E_ORDER))
E2E_TESTS += $(filter-out $(E2E_TESTS),$(wildcard scripts/test/e2e/*.test.ts))
test-e2e: build engine ## the whole mesh through docker compose: traces, controls, failures, exposure, the UI
	@$(WITH_ENGINE) { $(IN_ORDER) $(E2E_TESTS); status=$$?; \
	  docker compose $(COMPOSE_FILES_zipkin) down --remove-orphans --timeout 10 >/dev/null 2>&1; exit $$status; }

test-reliability: build engine ## the long scenarios: the trace store down under steady traffic, direct and through the collector; the mesh DNS paused
	@$(WITH_ENGINE) { $(IN_ORDER) scripts/test/reliability/*.test.ts; status=$$?; \
	  docker compose $(COMPOSE_FILES_zipkin) down --remove-orphans --timeout 10 >/dev/null 2>&1; exit $$status; }

# The checks that need no mesh run side by side, beside the README's mesh starting for the end-to-end part (each
# waits on a core or on the engine, rarely both); --output-sync prints each one's output whole when it ends. Then the
# end-to-end files, one at a time.
test: build engine ## every test but the long reliability scenarios (.ci/run runs those too)
	@$(MAKE) --no-print-directory -j4 --output-sync=target lint test-services test-configs start
	@$(MAKE) --no-print-directory test-e2e

run: engine ## docker compose up --build in the foreground (BACKEND, TRACING_MODE); Ctrl-C stops it
	@$(COMPOSE) up --build

start: engine ## the same in the background; returns when every service is healthy
	@$(COMPOSE) up --build --wait --detach || { status=$$?; \
	  echo "make start: the mesh did not come up; the last log lines, then it is taken down:" >&2; \
	  $(COMPOSE) logs --tail 10 >&2; $(COMPOSE) down --remove-orphans --timeout 10 >/dev/null 2>&1; \
	  echo "make start: taken down. Was another BACKEND's mesh running? Podman cannot swap its sidecars in place (docs/engine.md): \`make start\` again starts clean." >&2; \
	  exit $$status; }

stop: ## docker compose down: remove every container and the network (safe to repeat)
	@$(WITH_ENGINE) if docker version >/dev/null 2>&1; then docker compose $(COMPOSE_FILES) down --remove-orphans --timeout 10; \
	  else echo "make stop: no container engine answers, so no mesh runs"; fi

status: ## docker compose ps
	@$(COMPOSE) ps

logs: ## the last lines of every service's log (SERVICE=name for one)
	@$(COMPOSE) logs --tail 50 $(SERVICE)

bench: build engine ## throughput, latency, CPU and span delivery: limit vs off vs forward vs otel, direct and through the collector (docs/benchmarks.md); leaves the mesh running
	@$(WITH_ENGINE) $(TSX) scripts/bench.ts

bench-apps: build ## the apps' own CPU per request in each mode, on loopback without Envoy (compare two commits' deltas over off)
	@$(TSX) scripts/bench-apps.ts

profile-apps: build engine ## where the apps' CPU goes per request in off, forward, otel at 1 % and 100 % (Node's --cpu-prof in the mesh; .run/profile-apps/)
	@$(WITH_ENGINE) $(TSX) scripts/profile-apps.ts

screenshot: build engine ## docs/zipkin-trace.png: the Zipkin UI on a fresh trace, in headless Chromium (apt-get install chromium)
	@$(WITH_ENGINE) $(TSX) scripts/screenshot.ts

generate: install ## rewrite the generated files (every Envoy config's variants: OpenTelemetry tracer, collector path)
	@$(TSX) scripts/generate.ts

pins: install ## every pinned version next to the newest its registry serves here, and which are behind
	@$(TSX) scripts/pins.ts

# TRACE_FILE=trace.json checks a saved trace instead, offline (TRACING_MODE it was made in, EXPECTED=your own trees).
verify: install ## one request, its trace from Zipkin/Jaeger, compared with expected-traces.yaml (or TRACE_FILE=saved.json)
	@$(if $(TRACE_FILE),$(TSX) scripts/verify.ts --trace-file '$(TRACE_FILE)' $(if $(TRACING_MODE),--mode '$(TRACING_MODE)') \
	  $(if $(EXPECTED),--expected '$(EXPECTED)'),$(WITH_ENGINE) $(TSX) scripts/verify.ts \
	  $(if $(filter command line environment,$(origin BACKEND)),--backend $(BACKEND)) $(if $(EXPECTED),--expected '$(EXPECTED)'))

clean: ## remove build output (not .tools/)
	rm -rf services/dist services/src/generated
