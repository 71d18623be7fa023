#!/usr/bin/env bash
# Runs the end-to-end benchmark (direct, plain relay, rpctap --record with and without a
# stalled viewer; Content-Length and NDJSON framing; the workloads of issue 11) in release
# mode and rewrites the `## End to end` section of docs/benchmarks.md from this run's
# results. The full run takes 25–35 minutes on 2 cores and needs about 5 GB free in /tmp
# (the largest recordings, one at a time). `--quick` sends fewer messages: a check of the
# harness in about a minute, not figures to publish (the docs are left alone); `--only
# TEXT` runs only the runs whose name holds TEXT (docs left alone too). The script exits
# non-zero (after writing the section) when a run failed or a recording did not hold what
# crossed.
set -euo pipefail
cd "$(dirname "$0")/.."
RPCTAP_BENCH_DOCS="$PWD/docs/benchmarks.md" cargo bench --bench e2e -- "$@"
