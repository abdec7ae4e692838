# Helpers for the example scripts (sourced, not run): the sidecar binary, a
# free X display, and stopping a VM. Copy it along with the script you copy.
# shellcheck shell=bash

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sidecar="${SIDECAR:-$repo/target/release/sidecar}"
[[ -x "$sidecar" ]] || { echo "${0##*/}: $sidecar missing: run cargo build --release" >&2; exit 2; }

# display_in_use N: a server answers on :N's socket, or a live native server
# holds its lock (it may listen on the abstract socket only).
display_in_use() {
    local n="$1" pid
    if [[ -f "/tmp/.X$n-lock" ]]; then
        pid="$(tr -dc 0-9 <"/tmp/.X$n-lock")"
        [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && return 0
    fi
    [[ -S "/tmp/.X11-unix/X$n" ]] &&
        "$sidecar" pixels --display ":$n" --color '#000000' >/dev/null 2>&1
}

# display_arg FIRST [--display :N]: the script's display number: N (checked
# to be free), or the first free one from FIRST.
display_arg() {
    local first="$1"
    shift
    case "${1:-}" in
    --display) free_display "${2:?--display needs :N}" "$first" ;;
    "") free_display "" "$first" ;;
    *) echo "usage: $0 [--display :N]" >&2; return 2 ;;
    esac
}

# free_display [:N] FIRST: N (checked), or the first free number from FIRST.
free_display() {
    local want="$1" n="$2"
    if [[ -n "$want" ]]; then
        n="${want#:}"
        [[ "$n" =~ ^[0-9]+$ ]] || { echo "${0##*/}: bad display $want (want :N)" >&2; return 2; }
        ! display_in_use "$n" || { echo "${0##*/}: display :$n is in use" >&2; return 2; }
    else
        while display_in_use "$n"; do
            n=$((n + 1))
            ((n < 300)) || { echo "${0##*/}: no free display" >&2; return 2; }
        done
    fi
    echo "$n"
}

# stop_vm PID [SECONDS]: SIGTERM (passed on to the guests), then wait for
# the VM to end; SIGKILL after SECONDS (default 10). Fails if it had to.
stop_vm() {
    local pid="$1" limit="${2:-10}" killer
    kill -TERM "$pid" 2>/dev/null || return 0
    (sleep "$limit" && kill -KILL "$pid" 2>/dev/null) &
    killer=$!
    wait "$pid" 2>/dev/null || true
    if kill -0 "$killer" 2>/dev/null; then
        kill "$killer" 2>/dev/null
        wait "$killer" 2>/dev/null || true
        return 0
    fi
    return 1
}
