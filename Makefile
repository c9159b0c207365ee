# orgguard — developer tasks. `make test` is the README's test command.
GO ?= go
# Each fuzzer runs briefly in `make test` (its seed corpus also runs as a
# unit test); `make fuzz` runs them longer.
FUZZTIME ?= 2s
LONGFUZZTIME ?= 1m

.PHONY: build test unit conformance fuzz lint bench demo

build:
	$(GO) build -o bin/orgguard ./cmd/orgguard

## test: every test — unit and integration (race detector), the reference cases,
## the AWS CLI and boto3 scripts against the simulator, and a short run of each fuzzer.
## The binary is built once (bin/orgguard) and reused by every script.
test: build
	@set -a; eval "$$(scripts/test-env.sh)"; set +a; \
	$(GO) test -race -count=1 ./... && \
	./bin/orgguard eval $(wildcard ../shared/cases/*.json) testdata/cases/*.json && \
	ORGGUARD=./bin/orgguard scripts/awscli-test.sh && \
	{ ORGGUARD=./bin/orgguard python3 scripts/boto3-test.py; rc=$$?; [ $$rc = 0 ] || [ $$rc = 77 ]; } && \
	scripts/fuzz.sh $(FUZZTIME)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@cp go.mod /tmp/orgguard-go.mod.bak; cp go.sum /tmp/orgguard-go.sum.bak; $(GO) mod tidy; \
	if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changes go.mod/go.sum"; git diff -- go.mod go.sum; \
	cp /tmp/orgguard-go.mod.bak go.mod; cp /tmp/orgguard-go.sum.bak go.sum; exit 1; fi

## demo: the main job — the 2023 accident replayed on a simulated organization.
demo: build
	./bin/orgguard demo

## unit: the Go tests alone, without the race detector (the quick loop while working).
unit:
	$(GO) test ./...

## fuzz: every fuzzer for LONGFUZZTIME each.
fuzz:
	scripts/fuzz.sh $(LONGFUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
