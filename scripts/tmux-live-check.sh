#!/usr/bin/env bash
# Checks the live hub with the real binaries in a real terminal (tmux): `rpctap` (the hub)
# starts first and shows no session; a shim started later under the demo client appears
# as live; Enter opens it and its traffic appears and grows; when the client is stopped
# the session ends, and back on the hub (`q`) it shows as ended with its exit code; `q`
# exits with status 0; no process of the check is left.
#
# Usage: scripts/tmux-live-check.sh [path/to/rpctap]   (default: builds the debug binary)
set -euo pipefail

source "$(dirname "$0")/tmux-lib.sh"
bin=$(rpctap_bin "${1:-}")
session="rpctap-live-check-$$"
name=tmux-live-check pane=$session:hub match=-E
home=$(mktemp -d)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; trap_tmux_server; rm -rf "$home"' EXIT

# The hub first, in its own window; both windows share the state directory.
tmux new-session -d -s "$session" -n hub -x 160 -y 40 \
    "RPCTAP_HOME='$home' TERM=xterm-256color '$bin'; echo \"exit=\$?\"; sleep 60"
wait_for "no sessions yet"

tmux new-window -d -t "$session" -n client \
    "RPCTAP_HOME='$home' '$bin' demo-client --repeat --pace-ms 200 -- '$bin' --name livecheck -- '$bin' demo-server; sleep 60"
wait_for "● live +livecheck +LSP"

# Enter opens it: the header names it, live, and the message count grows.
tmux send-keys -t "$session:hub" Enter
wait_for "^ rpctap livecheck .*● live"
count() { screen | grep -oE "Messages +[0-9]+/[0-9]+" | head -1 | sed 's|.*/||'; }
wait_for "Messages +[0-9]+/[0-9]+"
first=$(count)
for _ in $(seq 100); do [[ $(count) -gt $first ]] && break; sleep 0.1; done
[[ $(count) -gt $first ]] || fail "no new traffic after $first messages"

hub_pane=$(tmux display -p -t "$session:hub" '#{pane_pid}')
client_pane=$(tmux display -p -t "$session:client" '#{pane_pid}')
procs=$(descendants "$hub_pane"; descendants "$client_pane")
procs=$(tr '\n' ' ' <<<"$procs")
shown=0
for p in $procs; do [[ $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null) == *rpctap* ]] && shown=$((shown + 1)); done
[[ $shown -ge 4 ]] || fail "expected the hub, the client, the shim and the server, got: $procs"
client=$(pgrep -P "$client_pane" -f demo-client) || fail "no demo client below the client pane"

# Stopping the client closes the shim's input: the server, then the shim, end.
kill -TERM "$client"
wait_for "^ rpctap livecheck .*ended"
recording=$(ls "$home"/sessions/*-livecheck-*.jsonl) || fail "livecheck was not recorded"
code=$(tail -n 1 "$recording" | sed -nE 's/.*"type":"exit".*"code":([0-9]+).*/\1/p')
[[ -n $code ]] || fail "the recording does not end with an exit code: $(tail -n 1 "$recording")"

tmux send-keys -t "$session:hub" q
wait_for "ended · exit $code +livecheck"

tmux send-keys -t "$session:hub" q
wait_for "exit=0"
wait_gone "$procs"
echo "tmux-live-check: ok (hub first, shim appeared live, traffic grew, ended · exit $code, q exited 0, no process left)"
