# Tollgate control plane. `make help` lists the targets.
GO        ?= go
PROTOC    ?= protoc
PROTO_DIR := proto
PROTOS    := $(wildcard $(PROTO_DIR)/tollgate/v1/*.proto)

.PHONY: help build test test-short lint fmt generate golden gen-check bench bench-fleet fuzz

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build the controlplane binary into bin/
	$(GO) build -o bin/controlplane ./cmd/controlplane

test: ## run every test with the race detector (the README's test command)
	$(GO) test -race -count=1 ./...

test-short: ## run the fast tests only
	$(GO) test -short -count=1 ./...

LINT := $(GO) tool -modfile=tools/go.mod golangci-lint

lint: ## go vet and golangci-lint (pinned in tools/go.mod; config in .golangci.yml)
	$(GO) vet ./...
	$(LINT) run ./...

fmt: ## format with gofumpt through golangci-lint
	$(LINT) fmt ./...

generate: ## regenerate Go from proto/ (needs protoc 3.21, see .ci/run)
	$(PROTOC) -I $(PROTO_DIR) \
	  --plugin=protoc-gen-go="$$($(GO) tool -n protoc-gen-go)" \
	  --go_out=$(PROTO_DIR) --go_opt=paths=source_relative $(PROTOS)
	$(MAKE) --no-print-directory golden

golden: ## rewrite golden files (translation goldens, envoy/ bootstraps, docs/openapi.json)
	$(GO) test ./internal/translate -run '^TestGolden$$' -update >/dev/null
	$(GO) test ./internal/bootstrap -run '^TestExamples$$' -update >/dev/null
	$(GO) test ./internal/admin -run '^TestOpenAPIDocument$$' -update >/dev/null

GENERATED := $(PROTO_DIR) docs/openapi.json internal/translate/testdata envoy

gen-check: generate ## regenerate everything and fail on any difference
	@git diff --exit-code -- $(GENERATED) || { echo "generated files drifted: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- $(GENERATED))" || { git status --porcelain -- $(GENERATED); echo "untracked generated files: run 'make generate' and commit"; exit 1; }

bench: ## run benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-fleet: ## the N × K × mode × cache fleet matrix of BENCHMARKS.md (long: tens of minutes)
	scripts/fleet-matrix.sh

fuzz: ## fuzz decode+validate, the admin API and the translator, 60 s each
	$(GO) test -run '^$$' -fuzz FuzzDecodeValidate -fuzztime 60s -fuzzminimizetime 5s ./internal/model
	$(GO) test -run '^$$' -fuzz FuzzAdminApply -fuzztime 60s -fuzzminimizetime 5s ./internal/admin
	$(GO) test -run '^$$' -fuzz FuzzTranslate -fuzztime 60s -fuzzminimizetime 5s -parallel 1 ./internal/translate
