#!/usr/bin/env bash
# Runs the decoder benchmarks (criterion, release mode) and rewrites the `## Decoders`
# section of docs/benchmarks.md from this run's results. Extra arguments go to criterion,
# e.g. `scripts/bench-decode.sh decode_1MB` to run only the 1 MiB group.
set -euo pipefail
cd "$(dirname "$0")/.."
RPCTAP_BENCH_DOCS="$PWD/docs/benchmarks.md" cargo bench --bench decode -- "$@"
