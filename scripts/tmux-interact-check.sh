#!/usr/bin/env bash
# Checks interactive debugging (issue 16) with the real binaries in a real terminal (tmux):
# the demo client works through a real shim and the demo server; the TUI (the hub, then
# Enter) sets an intercept on `textDocument/*`; the held didChange is edited in $EDITOR and
# forwarded, the held hover answered by hand (the client takes that answer), the next
# didChange dropped and the next hover forwarded; a composed request is sent and its reply
# shown; clearing the intercept lets everything flow again. The recording must hold the
# marks: held lines, release lines edit/answer/drop/forward, the injected answer and the
# injected request with its diverted response. `q` twice exits 0.
#
# Usage: scripts/tmux-interact-check.sh [path/to/rpctap]   (default: builds the debug binary)
set -euo pipefail

source "$(dirname "$0")/tmux-lib.sh"
bin=$(rpctap_bin "${1:-}")
session="rpctap-interact-check-$$"
name=tmux-interact-check pane=$session:tui match=-E
home=$(mktemp -d)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; trap_tmux_server; rm -rf "$home"' EXIT

# The editor the compose view runs for an edit: asks on the terminal for a prefix of the
# document's version, as an interactive editor reads its keys (none may go to the TUI).
cat >"$home/editor.sh" <<'EOF'
#!/bin/sh
printf 'version prefix? '
read -r v </dev/tty
sed -i "s/\"version\": /\"version\": $v/" "$1"
EOF
chmod +x "$home/editor.sh"

tmux new-session -d -s "$session" -n client -x 160 -y 45 \
    "RPCTAP_HOME='$home' '$bin' demo-client --repeat --pace-ms 300 --timeout 120 -- '$bin' --name interact -- '$bin' demo-server; sleep 60"
tmux new-window -d -t "$session" -n tui \
    "RPCTAP_HOME='$home' EDITOR='$home/editor.sh' TERM=xterm-256color '$bin'; echo \"exit=\$?\"; sleep 60"
wait_for "● live +interact"
tmux send-keys -t "$pane" Enter
wait_for "^ rpctap interact .*● live"
wait_for "textDocument/hover"

key() { tmux send-keys -t "$pane" "$@"; }

# An intercept on didChange (typed in the filter prompt, checked as typed): the client goes
# on (a notification has no answer), so held ones pile up.
key i
wait_for "intercept: "
key -l 'method:textDocument/didChange'
key Enter
wait_for 'intercepting "method:textDocument/didChange"'
wait_for "[0-9]+ held: H"
key H
wait_for "Held: [1-9]"

# The first held didChange: edited in $EDITOR (Ctrl-O), then sent on (Ctrl-S).
key e
wait_for "edit held #"
key C-o
wait_for "version prefix\\?"
key -l 1000
key Enter
wait_for '"version": 1000'
key C-s
wait_for "edited and forwarded"
# Another: dropped. The rest: forwarded all at once.
wait_for "Held: [1-9]"
key d
wait_for "dropped"
wait_for "Held: [1-9]"
key A
wait_for "held message\(s\) forwarded"

# An intercept on hover instead (`i` works in the held view too): the client waits.
key i C-u
key -l 'method:textDocument/hover'
key Enter
wait_for 'intercepting "method:textDocument/hover"'
wait_for "Held: 1"
# Answered by hand: the template's null result replaced by a string.
key r
wait_for "answer held #"
key Up End BSpace BSpace BSpace BSpace
key -l '"rpctap says hello"'
key C-s
wait_for "answered"
# The client went on and hovers again: this one is forwarded to the server.
wait_for "Held: 1"
key a
wait_for "#[0-9]+ forwarded"

# Clear the intercept: everything flows again.
key i C-u Enter
wait_for "intercept cleared"
key Escape

# Compose: a new request to the server; the demo server answers an unknown method with an
# error, which the compose view shows as the reply.
key '>'
wait_for "compose → "
key C-n
wait_for "compose → server"
key Up Up End Left Left
key -l 'demo/ping'
key C-s
wait_for '"code": -32601'
key Escape

recording=$(ls "$home"/sessions/*-interact-*.jsonl) || fail "the session was not recorded"
# The reply is on screen as soon as the shim diverts it; its line reaches the file at the
# recorder's next commit (every 100 ms while traffic flows), so the file is given 10 s.
for _ in $(seq 100); do
    missing=
    for want in '"held":' '"action":"edit"' '"action":"answer"' '"action":"drop"' \
        '"action":"forward"' '"origin":"rpctap"' '"diverted":true' 'rpctap says hello' '"version":1000'; do
        grep -qF -- "$want" "$recording" || missing=$want
    done
    [ -z "$missing" ] && break
    sleep 0.1
done
[ -z "$missing" ] || fail "the recording has no $missing"

key q
wait_for "● live +interact|ended"
key q
wait_for "exit=0"
echo "tmux-interact-check: ok (intercept, edit in \$EDITOR, answer, drop, forward, clear, compose; marks recorded)"
