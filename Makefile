# The mesh's intents. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE := node_modules/.bin/node
TSX := $(NODE) --import tsx
NODE_TEST := $(TSX) --test --test-concurrency=1 --test-reporter=spec

.PHONY: help install tools build lint test-unit test-configs test clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

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

test: test-unit test-configs ## every test

clean: ## remove build output (not .tools/)
	rm -rf services/dist services/src/generated
