#!/usr/bin/env bash
# Re-captures the sample recordings in assets/ from real sessions: the interop driver
# (tests/interop/driver.py) runs pygls against pylsp, the MCP SDK against
# server-everything and a minimal IDE against debugpy, each through `rpctap --record`.
#
# pyright's session runs the same LSP steps as pylsp's, for `rpctap diff` on real captures.
# With names (`capture-samples.sh pyright`), only those sessions are captured again.
#
# Needs scripts/interop-setup.sh first, and an rpctap binary (default: a fresh debug
# build; or RPCTAP=/path/to/rpctap). The sessions run in /tmp/rpctap-sample so that the
# recordings carry no path of the developer's checkout.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${RPCTAP_INTEROP_CACHE:-$root/.cache/interop}
[[ -f $cache/ready ]] || { echo "capture-samples: run scripts/interop-setup.sh first" >&2; exit 2; }
if [[ -z ${RPCTAP:-} ]]; then
    cargo build --quiet --manifest-path "$root/Cargo.toml"
    RPCTAP=${CARGO_TARGET_DIR:-$root/target}/debug/rpctap
fi

work=/tmp/rpctap-sample
rm -rf "$work"
mkdir -p "$work"
# Copied, not used in place: another build may replace the binary while we run.
cp "$RPCTAP" "$work/rpctap"
ln -s "$cache" "$work/interop"
python="$work/interop/venv/bin/python"
everything="$work/interop/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"

capture() { # NAME PROTOCOL SERVER...
    local name=$1 protocol=$2
    if [[ ${#only[@]} -gt 0 && " ${only[*]} " != *" $name "* ]]; then
        return
    fi
    shift 2
    mkdir -p "$work/$name"
    (cd "$work/$name" && "$python" "$root/tests/interop/driver.py" "$protocol" \
        --workspace "$work/$name" --out "$work/$name/result.json" \
        -- "$work/rpctap" --name "$name" --record "$work/$name.jsonl" -- "$@")
    cp "$work/$name.jsonl" "$root/assets/$name-session.jsonl"
    echo "capture-samples: assets/$name-session.jsonl"
}

only=("$@")
mkdir -p "$root/assets"
capture pylsp lsp "$work/interop/venv/bin/pylsp"
capture mcp-everything mcp node "$everything" stdio
capture debugpy dap "$python" -m debugpy.adapter
capture pyright lsp "$work/interop/npm/node_modules/.bin/pyright-langserver" --stdio
