#!/usr/bin/env bash
# Checks `rpctap demo` in a real terminal (tmux): traffic appears live, `q` exits with
# status 0, and no process of the demo (client, shim, server) remains afterwards.
#
# Usage: scripts/tmux-demo-check.sh [path/to/rpctap]   (default: builds the debug binary)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-}
if [[ -z $bin ]]; then
    (cd "$here" && cargo build --quiet)
    bin="${CARGO_TARGET_DIR:-$here/target}/debug/rpctap"
fi
session="rpctap-demo-check-$$"
home=$(mktemp -d)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$home"' EXIT

fail() {
    echo "tmux-demo-check: FAIL: $*" >&2
    tmux capture-pane -t "$session" -p >&2 || true
    exit 1
}
screen() { tmux capture-pane -t "$session" -p; }
wait_for() {
    for _ in $(seq 150); do
        if screen | grep -qE -- "$1"; then return 0; fi
        sleep 0.1
    done
    fail "never saw: $1"
}

# Every process below `pid`, from /proc.
descendants() {
    local parent=$1 pid
    for stat in /proc/[0-9]*/stat; do
        pid=${stat#/proc/}; pid=${pid%/stat}
        if [[ $(awk '{print $4}' "$stat" 2>/dev/null) == "$parent" ]]; then
            echo "$pid"
            descendants "$pid"
        fi
    done
}

tmux new-session -d -s "$session" -x 160 -y 45 \
    "RPCTAP_HOME='$home' TERM=xterm-256color '$bin' demo --pace-ms 100; echo \"exit=\$?\"; sleep 60"
wait_for "rpctap demo"
wait_for "initialize"
wait_for "textDocument/hover"
wait_for "● live"
# Messages keep arriving: the count in the list title grows.
count() { screen | grep -oE "Messages +[0-9]+/[0-9]+" | head -1 | sed 's|.*/||'; }
first=$(count)
for _ in $(seq 100); do [[ $(count) -gt $first ]] && break; sleep 0.1; done
[[ $(count) -gt $first ]] || fail "no new traffic after $first messages"

pane=$(tmux display -p -t "$session" '#{pane_pid}')
procs=$(descendants "$pane" | tr '\n' ' ')
[[ $(wc -w <<<"$procs") -ge 4 ]] || fail "expected rpctap, the client, the shim and the server below the pane, got: $procs"

tmux send-keys -t "$session" q
wait_for "exit=0"
for _ in $(seq 50); do
    alive=""
    for p in $procs; do
        [[ -e /proc/$p && $(awk '{print $3}' /proc/$p/stat 2>/dev/null) != Z && $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null) == *rpctap* ]] && alive="$alive $p"
    done
    [[ -z $alive ]] && break
    sleep 0.1
done
[[ -z $alive ]] || fail "demo processes still running:$alive"
ls "$home"/sessions/*-demo-*.jsonl >/dev/null || fail "the demo session was not recorded"
echo "tmux-demo-check: ok (demo showed live traffic, q exited 0, no demo process left)"
