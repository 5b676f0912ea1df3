# The mesh's intents. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE := node_modules/.bin/node
TSX := $(NODE) --import tsx
NODE_TEST := $(TSX) --test --test-concurrency=1 --test-reporter=spec

.PHONY: help install tools build lint test-unit test-configs test-e2e test-reliability test run start stop status logs verify screenshot generate bench clean

# BACKEND=jaeger puts Jaeger where Zipkin was (docker-compose.jaeger.yaml); BACKEND=otel-tracer also swaps Envoy's
# Zipkin tracer for its OpenTelemetry tracer (docker-compose.otel-tracer.yaml). TRACING_MODE=otel|forward|off.
BACKEND ?= zipkin
MESH := $(TSX) scripts/mesh.ts

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error --engine-strict=false
	@touch $@

install: node_modules/.install-stamp ## install the npm dependencies (Node 24 comes with them)

tools: ## install the real Envoy, Zipkin and Jaeger into .tools/ (versions from .env)
	@scripts/install-tools.sh

build: install ## compile the services (TypeScript -> services/dist)
	@npm run --silent build

lint: install ## type-check, lint and format-check everything
	@npm run --silent typecheck
	@npm run --silent lint

test-unit: lint build ## lint plus the services' tests (real processes on loopback, no Envoy)
	@$(NODE_TEST) services/test/*.test.ts

test-configs: install ## every Envoy config through the real Envoy; compose lint; the cross-file consistency checks
	@$(NODE_TEST) scripts/test/*.test.ts

test-e2e: build ## the whole mesh on the runner, with the real Envoy, Zipkin and Jaeger (needs root)
	@$(NODE_TEST) scripts/test/e2e/*.test.ts

test-reliability: build ## the long scenarios: the trace backend down for 30 s under steady traffic (needs root)
	@$(NODE_TEST) scripts/test/reliability/*.test.ts

test: test-unit test-configs test-e2e ## every test but the long reliability scenarios (.ci/run runs those too)

run: build ## the compose mesh without Docker, in the foreground (Ctrl-C stops it)
	@$(MESH) run --backend $(BACKEND)

start: build ## the same in the background; returns when every service is healthy
	@$(MESH) start --backend $(BACKEND)

stop: install ## stop the mesh and remove every namespace, link and process it made (safe to repeat)
	@$(MESH) stop

status: install ## what runs where
	@$(MESH) status

logs: install ## the last lines of every service's log (.run/logs/)
	@$(MESH) logs $(SERVICE)

bench: build ## throughput, latency, CPU and span delivery: limit vs off vs forward vs otel (docs/benchmarks.md)
	@$(TSX) scripts/bench.ts

screenshot: build ## docs/zipkin-trace.png: the Zipkin UI on a fresh trace, in headless Chromium (apt-get install chromium)
	@$(TSX) scripts/screenshot.ts

generate: install ## rewrite the generated files (the OpenTelemetry-tracer variant of every Envoy config)
	@$(TSX) scripts/generate.ts

verify: install ## one request, its trace from Zipkin/Jaeger, compared with expected-traces.yaml
	@$(TSX) scripts/verify.ts

clean: ## remove build output (not .tools/)
	rm -rf services/dist services/src/generated
