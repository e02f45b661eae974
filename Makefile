# Switchyard — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := bin/switchyard
ARGS ?=

.PHONY: run build generate tools lint breaking check-generated vet test test-suites test-go test-sdkcompat test-agents test-sdk-typescript test-sdk-python test-browser test-providers test-readme test-openapi fmt clean loadtest bench simulate image manifests test-helm console test-console console-screenshots fleet

## run: build and start the gateway on the embedded default config (127.0.0.1:8080)
run: build
	./$(BIN) $(ARGS)

## build: compile bin/switchyard
build:
	$(GO) build -o $(BIN) ./server/cmd/switchyard

## tools: install pinned code generators and test dependencies
tools:
	scripts/install-tools.sh

## generate: regenerate gen/ from proto/ (offline, pinned plugins)
generate: tools
	scripts/generate.sh

## lint: buf lint (STANDARD), buf format check, buf breaking
lint: tools
	tools/node_modules/.bin/buf lint
	tools/node_modules/.bin/buf format --diff --exit-code
	scripts/buf-breaking.sh

## check-generated: fail when regenerating changes gen/
check-generated: tools
	scripts/generate.sh
	@if [[ -n "$$(git status --porcelain -- gen sdk/python/src/switchyard/v1)" ]]; then \
		echo "gen/ is out of date with proto/: run 'make generate' and commit the result" >&2; \
		git status --porcelain -- gen sdk/python/src/switchyard/v1 >&2; git --no-pager diff --stat -- gen sdk/python/src/switchyard/v1 >&2; exit 1; fi

vet:
	$(GO) vet ./...

## test-go: go test -race ./... with a throwaway redis-server and postgres (installed if missing) for the cache and store suites
test-go:
	@set -e; addr=$$(scripts/redis.sh); trap 'scripts/redis.sh stop "$$addr"' EXIT; \
		pg=$$(scripts/postgres.sh); trap 'scripts/redis.sh stop "$$addr"; scripts/postgres.sh stop "$$pg"' EXIT; \
		SWITCHYARD_TEST_REDIS=$$addr SWITCHYARD_TEST_POSTGRES=$$pg $(GO) test -race -count=1 ./...; \
		for years in 2 -2; do echo "budget and limit suites with the test clock $$years years away (real Redis)"; \
			SWITCHYARD_TEST_CLOCK_YEARS=$$years SWITCHYARD_TEST_REDIS=$$addr $(GO) test -count=1 ./engine/budget ./engine/limits; done

test-sdkcompat: build
	scripts/test-sdkcompat.sh

## test-agents: the real coding-agent CLIs (claude -p, codex exec, gemini -p) through a live gateway to the simulator and the fake upstream in three formats, and the ledger's record of them
test-agents: build
	scripts/test-agents.sh

## test-providers: the OpenAI SDKs through the gateway to OpenAI, Anthropic and Gemini wire formats (fake upstream)
test-providers: build
	scripts/test-providers.sh

## test-readme: run every shell example of README.md, in order, against a fresh gateway (simulator, temp data dir, free port)
test-readme: build
	SWITCHYARD_BIN=$(BIN) scripts/readme-check.sh

test-sdk-python: build
	SWITCHYARD_TEST_BIN=$(BIN) scripts/test-sdk-python.sh

test-sdk-typescript: build
	SWITCHYARD_BIN=$(BIN) scripts/test-sdk-typescript.sh

## test-openapi: schemathesis checks the served OpenAPI document against what the REST facade sends
test-openapi: build
	SWITCHYARD_BIN=$(BIN) scripts/test-openapi.sh

## test-browser: Connect-Web in headless Chromium (installs Debian chromium if missing)
test-browser: build
	SWITCHYARD_BIN=$(BIN) scripts/test-browser.sh

## test-helm: helm lint and helm template of deploy/helm/switchyard (defaults and every option), the render checks, and that deploy/manifests is the current render
test-helm:
	scripts/test-helm.sh

## console: rebuild the operator console's bundle (server/console/dist, committed; the gateway embeds it)
console:
	scripts/build-console.sh

## test-console: the console in headless Chromium against a live gateway (checks the committed bundle matches a fresh build first)
test-console: build
	SWITCHYARD_BIN=$(BIN) scripts/test-console.sh

## console-screenshots: rerun the console suite and rewrite docs/console/*.png
console-screenshots: build
	SWITCHYARD_BIN=$(BIN) scripts/test-console.sh --shots docs/console

## test: install what the tests need, then run every suite (in a temp dir of its own: nothing left in /tmp)
test:
	scripts/test-all.sh

test-suites: tools lint check-generated vet test-go test-sdkcompat test-agents test-providers test-sdk-python test-sdk-typescript test-browser test-readme test-openapi test-helm test-console
	@echo "all suites passed"

## loadtest: ghz scenarios (unary, stream, cache hit), a 60 s soak and a 10k-stream soak against the fake upstream (loopback, bounded)
loadtest:
	scripts/loadtest.sh

## bench: Switchyard beside Portkey and LiteLLM against the fake upstream (interleaved rounds); writes loadtest/results/
bench:
	scripts/bench.sh

## fleet: 3 gateway replicas on shared Redis and Postgres behind HAProxy (installed with apt when missing), 60 s of mixed load while one replica is SIGTERM'd, another SIGKILL'd and Redis restarts; checks success rate, RPM limits and budgets across replicas, cache hits across replicas, routing propagation, alerts, the ledger; writes loadtest/results/fleet.{md,json} (loopback, bounded, about 2 minutes; not part of make test)
fleet: build
	SWITCHYARD_BIN=$(BIN) scripts/fleet.sh

## simulate: a synthetic day (diurnal load, a price cut at 10:00, an outage at 14:00, a latency spike at 18:00) through the gateway for four routing policies, billed at the true prices; writes loadtest/results/simulate.{md,json,svg} (loopback, bounded, about 5 minutes)
simulate: build
	SWITCHYARD_BIN=$(BIN) scripts/simulate.sh

## image: the gateway's OCI image (static, non-root, read-only-root friendly) as bin/switchyard-image.tar, without a container daemon
image:
	scripts/image.sh

## manifests: render the Helm chart into deploy/manifests/switchyard.yaml (plain manifests, committed)
manifests:
	scripts/manifests.sh

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '^gen/')
	tools/node_modules/.bin/buf format -w

clean:
	rm -rf bin
