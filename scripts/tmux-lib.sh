# Sourced by the scripts that drive the real binary in tmux (tmux-check.sh,
# tmux-demo-check.sh, tmux-live-check.sh, screenshots.sh): which binary, and helpers that
# read one pane. The sourcing script sets `name` (for messages) and `pane` (a tmux target)
# and may set `match` to -E for extended regular expressions (default: fixed strings).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The binary given as the first argument, or a fresh debug build.
rpctap_bin() {
    if [[ -n ${1:-} ]]; then
        echo "$1"
    else
        (cd "$here" && cargo build --quiet)
        echo "${CARGO_TARGET_DIR:-$here/target}/debug/rpctap"
    fi
}

# Each script talks to a tmux server of its own, which stays up between its sessions: a
# `new-session` just after the last session was killed (here, or in the script before)
# otherwise meets the exiting server and fails with "server exited unexpectedly".
tmux() { command tmux -L "rpctap-check-$$" "$@"; }
tmux start-server \; set -g exit-empty off
trap_tmux_server() { command tmux -L "rpctap-check-$$" kill-server 2>/dev/null || true; }

screen() { tmux capture-pane -t "$pane" -p; }

fail() {
    echo "$name: FAIL: $*" >&2
    echo "--- screen ---" >&2
    screen >&2 || true
    exit 1
}

# Waits (up to 15 s) until the pane shows `$1`.
wait_for() {
    for _ in $(seq 150); do
        if screen | grep -q "${match:--F}" -- "$1"; then return 0; fi
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

# Fails unless every rpctap process among the pids in `$1` is gone (zombies count as gone)
# within 5 s.
wait_gone() {
    local alive p
    for _ in $(seq 50); do
        alive=""
        for p in $1; do
            [[ -e /proc/$p && $(awk '{print $3}' /proc/$p/stat 2>/dev/null) != Z \
                && $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null) == *rpctap* ]] && alive="$alive $p"
        done
        [[ -z $alive ]] && return 0
        sleep 0.1
    done
    fail "processes still running:$alive"
}
