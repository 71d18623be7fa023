#!/usr/bin/env bash
# Checks the real binary in a real terminal (tmux): `rpctap open <fixture>` shows the
# messages, keys move the selection and switch tabs and views (timeline, stats), the
# layout follows a resize, and `q`
# exits with status 0 and restores the terminal (normal screen, cooked mode, echo, no mouse
# reporting).
#
# Usage: scripts/tmux-check.sh [path/to/rpctap]   (default: builds the debug binary)
set -euo pipefail

source "$(dirname "$0")/tmux-lib.sh"
bin=$(rpctap_bin "${1:-}")
fixture="$here/tests/fixtures/lsp-session.jsonl"
session="rpctap-check-$$"
name=tmux-check pane=$session
out=$(mktemp -d)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; trap_tmux_server; rm -rf "$out"' EXIT

# After the TUI exits the pane's shell prints its status and the terminal's modes.
tmux new-session -d -s "$session" -x 120 -y 50 \
    "TERM=xterm-256color '$bin' open '$fixture'; echo \"exit=\$?\"; stty -a > '$out/stty'; sleep 60"

wait_for "Messages  1/29"
wait_for "textDocument/hover"
wait_for "ended · exit 0"
[[ $(tmux display -p -t "$session" '#{alternate_on}') == 1 ]] || fail "not on the alternate screen"
[[ $(tmux display -p -t "$session" '#{mouse_any_flag}') == 1 ]] || fail "mouse reporting is off"

tmux send-keys -t "$session" j j j
wait_for "Messages  4/29"
wait_for "← response  initialize  id 1"

tmux send-keys -t "$session" G
wait_for "Messages  29/29"
tmux send-keys -t "$session" g

# Pair view of the hover request, then the wire view with its visible header.
tmux send-keys -t "$session" / m e t h o d : t e x t D o c u m e n t / h o v e r Enter
wait_for "Messages  1/2 · of 29"
tmux send-keys -t "$session" 2
wait_for "response after 12.3ms"
tmux send-keys -t "$session" 3
wait_for 'Content-Length: 154\r\n'

tmux send-keys -t "$session" '?'
wait_for "any key closes"
tmux send-keys -t "$session" Escape
for _ in $(seq 50); do screen | grep -qF "any key closes" || break; sleep 0.1; done
screen | grep -qF "any key closes" && fail "help did not close"

# The timeline and stats views of the filtered hover pair; Esc and T go back to the list.
tmux send-keys -t "$session" T
wait_for "─ Timeline  1/1"
wait_for "━ 12.3ms"
tmux send-keys -t "$session" S
wait_for "─ Stats  1 method ·"
tmux send-keys -t "$session" Escape
wait_for "Messages  1/2 · of 29"

# A resize to 80×24 keeps the state in the header and the list usable.
tmux resize-window -t "$session" -x 80 -y 24
wait_for "ended · exit 0"
screen | awk 'length > 0' | head -1 | grep -qF "rpctap demo" || fail "header lost after resize"

tmux send-keys -t "$session" q
wait_for "exit=0"
[[ $(tmux display -p -t "$session" '#{alternate_on}') == 0 ]] || fail "still on the alternate screen"
[[ $(tmux display -p -t "$session" '#{mouse_any_flag}') == 0 ]] || fail "mouse reporting left on"
for _ in $(seq 50); do [[ -s $out/stty ]] && break; sleep 0.1; done
grep -qE '(^| )icanon( |$)' "$out/stty" || fail "terminal left in raw mode: $(cat "$out/stty")"
grep -qE '(^| )echo( |$)' "$out/stty" || fail "echo left off"

# A file that is not a recording: one line on stderr, exit 2, terminal untouched.
if msg=$("$bin" open "$here/Cargo.toml" 2>&1); then fail "opening Cargo.toml succeeded"; fi
[[ $msg == "rpctap: cannot read '$here/Cargo.toml': unknown format (expected an rpctap recording, a VS Code LSP trace, lsp-devtools or mcpsnoop logs)" ]] \
    || fail "unexpected error: $msg"

echo "tmux-check: ok"
