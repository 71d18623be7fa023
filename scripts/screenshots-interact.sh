#!/usr/bin/env bash
# Makes the screenshots of docs/interactive.md from the real binaries: the demo client
# works through a real shim and the demo server while the TUI (the hub, then Enter) holds,
# answers, resends and composes. Captured as scripts/screenshots.sh captures (tmux
# `capture-pane -e`, scripts/ansi2png.py).
#
# Usage: scripts/screenshots-interact.sh [path/to/rpctap]   (default: builds the debug binary)
# Needs: tmux, python3 with Pillow, the DejaVu fonts (as scripts/screenshots.sh).
set -euo pipefail

source "$(dirname "$0")/tmux-lib.sh"
bin=$(rpctap_bin "${1:-}")
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install --quiet pillow
outdir="$here/screenshots"
mkdir -p "$outdir"
cols=160 rows=45
session="rpctap-ishots-$$"
name=screenshots-interact pane=$session:tui match=-E
tmp=$(mktemp -d)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$tmp"' EXIT

shot() {
    wait_for "$2"
    sleep 0.3 # let the frame that shows it finish
    tmux capture-pane -t "$pane" -e -p -N > "$tmp/$1.ansi"
    python3 "$here/scripts/ansi2png.py" "$tmp/$1.ansi" "$outdir/$1.png" "$cols" "$rows"
    echo "screenshots/$1.png"
}
key() { tmux send-keys -t "$pane" "$@"; }
esc() { key Escape; sleep 0.3; } # an Esc followed at once by a key reads as Alt+key

# The server runs as `rpctap demo-server` (found on PATH), the command line the header shows.
tmux new-session -d -s "$session" -n client -x "$cols" -y "$rows" \
    "PATH='$(dirname "$bin")':\$PATH RPCTAP_HOME='$tmp/home' '$bin' demo-client --repeat --pace-ms 300 --timeout 300 -- '$bin' --name demo -- rpctap demo-server; sleep 120"
tmux new-window -d -t "$session" -n tui \
    "RPCTAP_HOME='$tmp/home' TZ=UTC TERM=xterm-256color '$bin'; sleep 120"
wait_for "● live +demo"
key Enter
wait_for "^ rpctap demo .*● live"
sleep 3

# Intercept hovers: the client's next hover waits in the held view.
key i
key -l 'method:textDocument/hover'
key Enter
wait_for "held: H"
key H
shot intercept-held "Held: 1"

# Answer it by hand.
key r
wait_for "answer held #"
key Up End BSpace BSpace BSpace BSpace
key -l '{"contents": {"kind": "markdown", "value": "**answered by hand** in rpctap"}}'
shot intercept-answer "answered by hand"
key C-s
wait_for "answered"
esc
key i C-u Enter
wait_for "intercept cleared"

# Resend a recorded hover: the new response beside the recorded one, with the diff.
key / C-u
key -l 'method:textDocument/hover & !injected & !held'
key Enter
wait_for "filter \""
key g
key r
shot resend "diff: "
esc

# Compose: a hover request from the selected one, sent again by hand; its reply below.
key '>'
wait_for "compose → server"
shot compose-edit "compose → server"
key C-s
shot compose-reply "─ reply"
esc

# The list marks what rpctap did: + injected, ↵ answered by hand, ↺ diverted.
key / C-u
key -l 'method:textDocument/hover'
key Enter
key G
shot marks "filter \"method:textDocument/hover\""
