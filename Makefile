# The README's two commands: `go run ./cmd/portal` runs it; `make test` tests it.
GO ?= go
PKGS := ./...
WEB := frontend
NODE_MODULES := $(WEB)/node_modules/.package-lock.json

.PHONY: test test-go test-deploy test-web test-e2e check generate fmt vet bench run build web

# test runs the whole suite: the Go packages (PostgreSQL-backed tests use PORTAL_TEST_DATABASE_URL,
# default postgres://postgres@127.0.0.1:5432/test, and skip only outside CI when it is down), the
# Helm chart and deploy files, the widgets' unit tests, and the browser end-to-end tests in
# Debian's Chromium.
test: test-go test-deploy test-web test-e2e

test-go:
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-deploy:
	cd deploy && $(GO) test -count=1 -timeout 15m ./...

test-web: $(NODE_MODULES)
	cd $(WEB) && npm test

test-e2e: $(NODE_MODULES)
	cd $(WEB) && npm run e2e

$(NODE_MODULES): $(WEB)/package-lock.json
	cd $(WEB) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

# check fails on unformatted code, vet findings, type errors, or generated code (Go server, TS
# client, the embedded widget build) that drifted from its source.
check: $(NODE_MODULES)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)
	cd deploy && $(GO) vet ./...
	$(GO) generate ./...
	@git diff --exit-code -- api README.md $(WEB)/src/api || { echo "generated code is stale: run 'go generate ./...' and commit"; exit 1; }
	$(GO) mod tidy -diff
	cd deploy && $(GO) mod tidy -diff
	cd $(WEB) && npm run typecheck && npm run build
	@test -z "$$(git status --porcelain -- internal/webui/dist)" || { echo "internal/webui/dist is stale: run 'npm run build' in $(WEB)/ and commit"; git status --short -- internal/webui/dist; exit 1; }

generate:
	$(GO) generate ./...

# web rebuilds the widgets the binary embeds.
web: $(NODE_MODULES)
	cd $(WEB) && npm run build

# build makes the same static binary the container image ships.
build:
	deploy/build.sh ./portal

fmt:
	gofmt -w $$(git ls-files '*.go')

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./internal/... ./cmd/...

run:
	$(GO) run ./cmd/portal
