#!/usr/bin/env bash
# Runs the end-to-end benchmark (direct, plain relay, rpctap --record) in release mode and
# rewrites the `## End to end` section of docs/benchmarks.md from this run's results.
# `--quick` sends fewer messages: a check of the harness, not figures to publish.
set -euo pipefail
cd "$(dirname "$0")/.."
RPCTAP_BENCH_DOCS="$PWD/docs/benchmarks.md" cargo bench --bench e2e -- "$@"
