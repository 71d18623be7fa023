#!/usr/bin/env bash
# Makes the PNG screenshots in screenshots/ from the real binary: runs `rpctap open` on the
# test fixture in tmux at 160×45, drives it with keys, captures the screen with its colours
# (`capture-pane -e`) and renders that to PNG (scripts/ansi2png.py, Pillow, DejaVu Sans Mono).
#
# Usage: scripts/screenshots.sh [path/to/rpctap]   (default: builds the debug binary)
# Needs: tmux, python3 with Pillow (installed with pip if missing), the DejaVu fonts
# (Debian: fonts-dejavu-core).
set -euo pipefail

source "$(dirname "$0")/tmux-lib.sh"
bin=$(rpctap_bin "${1:-}")
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install --quiet pillow
fixture="$here/tests/fixtures/lsp-session.jsonl"
outdir="$here/screenshots"
mkdir -p "$outdir"
cols=160 rows=45
session="rpctap-shots-$$"
name=screenshots pane=$session
tmp=$(mktemp -d)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; trap_tmux_server; rm -rf "$tmp"' EXIT

# Captures the screen once it shows `$2`, as screenshots/$1.png.
shot() {
    wait_for "$2"
    sleep 0.2 # let the frame that shows it finish
    tmux capture-pane -t "$session" -e -p -N > "$tmp/$1.ansi"
    python3 "$here/scripts/ansi2png.py" "$tmp/$1.ansi" "$outdir/$1.png" "$cols" "$rows"
    echo "screenshots/$1.png"
}

# A fixed time zone, so that the absolute times shown are the recording's (UTC).
tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
    "TZ=UTC TERM=xterm-256color '$bin' open '$fixture'; sleep 60"
wait_for "ended · exit 0"

# List and detail: the hover request selected.
tmux send-keys -t "$session" -N 9 j
shot list-detail "Messages  10/29"

# The pair view of the hover response: request and response with the latency.
tmux send-keys -t "$session" j 2
shot pair "response after 12.3ms"

# The wire view of the initialize response, headers and escapes visible.
tmux send-keys -t "$session" g j j j 3
shot wire 'Content-Length: 447\r\n'

# Errors only, with the stderr pane beside the failing request.
tmux send-keys -t "$session" 1 e G s
shot errors-stderr "stderr  4 of 5 lines"

# A filter in use: text-document requests slower than 5 ms, and their answers.
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
    "TZ=UTC TERM=xterm-256color '$bin' open '$fixture'; sleep 60"
wait_for "ended · exit 0"
tmux send-keys -t "$session" / 'pair(method:textDocument/* & latency>5ms)' Enter
shot filter 'filter "pair(method:textDocument/* & latency>5ms)"'

# The timeline of the whole session (the filter cleared; the hover request stays selected).
tmux send-keys -t "$session" / C-u Enter
wait_for "Messages  10/29"
tmux send-keys -t "$session" T
shot timeline "─ Timeline  6/16"

# The stats view, slowest p99 first, the slowest method's histogram below.
tmux send-keys -t "$session" S o o o o o g
shot stats "sorted by p99"

# The demo: a scripted client and the demo server talking through the shim, live.
tmux kill-session -t "$session"
home="$tmp/home"
tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
    "RPCTAP_HOME='$home' TERM=xterm-256color '$bin' demo; sleep 60"
wait_for "● live"
sleep 9 # let the scripted session get past its slow, failing and cancelled requests
tmux send-keys -t "$session" f k k k k k k
shot demo "follow off"

# The demo's timeline while live: rates in the header, the latest requests at the edge.
tmux send-keys -t "$session" T G
shot timeline-live "─ Timeline"
tmux send-keys -t "$session" q
