# The README's two commands: `go run ./cmd/portal` runs it; `make test` tests it.
GO ?= go
PKGS := ./...

.PHONY: test check generate fmt vet bench run

# test runs the whole suite: PostgreSQL-backed tests use PORTAL_TEST_DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/test) and skip only outside CI when it is down.
test:
	$(GO) test -count=1 -timeout 20m $(PKGS)

# check fails on unformatted code, vet findings, or generated code that drifted from openapi.yaml.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)
	$(GO) generate ./...
	@git diff --exit-code -- api || { echo "api/ is stale: run 'go generate ./...' and commit"; exit 1; }
	$(GO) mod tidy -diff

generate:
	$(GO) generate ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./internal/... ./cmd/...

run:
	$(GO) run ./cmd/portal
