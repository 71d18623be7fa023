#!/usr/bin/env bash
# Installs the third-party programs the interop tests (tests/interop.rs) drive through
# rpctap: python-lsp-server, pygls, the MCP Python SDK and debugpy from PyPI into a venv,
# @modelcontextprotocol/server-everything and pyright from npm into a local prefix, and
# Arize Phoenix (the OpenTelemetry backend the export tests send spans to) into a venv of
# its own, so that its many pinned dependencies cannot change the peers' versions.
#
# Everything goes into one cache folder (default .cache/interop in the repository, which
# git ignores; override with RPCTAP_INTEROP_CACHE). Versions are pinned so that a result
# compared today compares the same way tomorrow. Running it again is cheap: a stamp file
# records what was installed, and nothing is reinstalled while it matches.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${RPCTAP_INTEROP_CACHE:-$root/.cache/interop}

pypi=(
    "python-lsp-server[pyflakes]==1.15.0"
    "pygls==2.1.1"
    "mcp==2.3.0"
    "debugpy==1.8.22"
)
npm=("@modelcontextprotocol/server-everything@2026.8.31" "pyright@1.1.414")
phoenix=("arize-phoenix==20.26.1")

stamp="$cache/ready"
want="${pypi[*]} ${npm[*]} ${phoenix[*]}"
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo "interop-setup: $cache is up to date"
    exit 0
fi

mkdir -p "$cache"
rm -f "$stamp"

echo "interop-setup: Python packages into $cache/venv"
python3 -m venv "$cache/venv"
"$cache/venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pypi[@]}"

echo "interop-setup: Phoenix into $cache/phoenix"
python3 -m venv "$cache/phoenix"
"$cache/phoenix/bin/python" -m pip install --quiet --disable-pip-version-check "${phoenix[@]}"

echo "interop-setup: npm packages into $cache/npm"
mkdir -p "$cache/npm"
npm install --prefix "$cache/npm" --no-audit --no-fund --loglevel=error "${npm[@]}"

# Fail here, not in the tests, if an install is incomplete.
"$cache/venv/bin/pylsp" --version >/dev/null
"$cache/venv/bin/python" -c 'import pygls.lsp.client, mcp.client.stdio, debugpy'
test -f "$cache/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
test -x "$cache/npm/node_modules/.bin/pyright-langserver"
"$cache/phoenix/bin/phoenix" --help >/dev/null

echo "$want" >"$stamp"
echo "interop-setup: done ($cache)"
