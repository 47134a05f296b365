#!/usr/bin/env bash
# Runs the fleet matrix of BENCHMARKS.md: N ∈ {1k, 10k} APIs × K ∈ {100,
# 1000} proxies × {delta, sotw} × {ours, linear, snapshot}, each run with
# its control plane in a child process (server-only CPU and RSS), one JSON
# report per run, then prints the markdown table (ours vs the best
# baseline). Runs already done are skipped, so an interrupted matrix
# resumes. Usage: scripts/fleet-matrix.sh [OUT_DIR]   (default bench-out)
# Environment: APIS, PROXIES, MODES, CACHES (space-separated lists), EDITS.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-out}
apis=${APIS:-"1000 10000"}
proxies=${PROXIES:-"100 1000"}
modes=${MODES:-"delta sotw"}
caches=${CACHES:-"ours linear snapshot"}
edits=${EDITS:-5}
mkdir -p "$out"
go build -o "$out/xdsload" ./cmd/xdsload
for n in $apis; do
  for k in $proxies; do
    for mode in $modes; do
      for cache in $caches; do
        name="$out/$n-$k-$mode-$cache"
        [ -s "$name.json" ] && continue
        echo "--- N=$n K=$k $mode $cache" >&2
        if "$out/xdsload" --apis "$n" --proxies "$k" --edits "$edits" --mode "$mode" --cache "$cache" \
          --wait 15m --idle 2s -o json >"$name.tmp" 2>"$name.log"; then
          mv "$name.tmp" "$name.json"
        else
          echo "failed: N=$n K=$k $mode $cache (see $name.log)" >&2
          rm -f "$name.tmp"
        fi
      done
    done
  done
done
"$out/xdsload" --summarize "$out"
