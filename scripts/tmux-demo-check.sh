#!/usr/bin/env bash
# Checks `rpctap demo` in a real terminal (tmux): traffic appears live, `q` exits with
# status 0, and no process of the demo (client, shim, server) remains afterwards.
#
# Usage: scripts/tmux-demo-check.sh [path/to/rpctap]   (default: builds the debug binary)
set -euo pipefail

source "$(dirname "$0")/tmux-lib.sh"
bin=$(rpctap_bin "${1:-}")
session="rpctap-demo-check-$$"
name=tmux-demo-check pane=$session match=-E
home=$(mktemp -d)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; trap_tmux_server; rm -rf "$home"' EXIT

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

pane_pid=$(tmux display -p -t "$session" '#{pane_pid}')
procs=$(descendants "$pane_pid" | tr '\n' ' ')
[[ $(wc -w <<<"$procs") -ge 4 ]] || fail "expected rpctap, the client, the shim and the server below the pane, got: $procs"

tmux send-keys -t "$session" q
wait_for "exit=0"
wait_gone "$procs"
recording=$(ls "$home"/sessions/*-demo-*.jsonl) || fail "the demo session was not recorded"

# The recorded demo replayed into the demo server, shown live with --tui; the report
# follows once the viewer is quit.
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x 160 -y 45 \
    "RPCTAP_HOME='$home' TERM=xterm-256color '$bin' replay --tui '$recording' -- '$bin' demo-server; echo \"exit=\$?\"; sleep 60"
wait_for "replay of demo"
wait_for "ended · exit 0"
tmux send-keys -t "$session" q
wait_for "responses compared: ([0-9]+) matched, 0 differing, 0 missing"
wait_for "exit=0"
echo "tmux-demo-check: ok (demo showed live traffic, q exited 0, no demo process left; replay --tui matched)"
