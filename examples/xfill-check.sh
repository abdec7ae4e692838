#!/usr/bin/env bash
# Boots examples/xfill.toml (Xvfb + the Xlib client xfill as guests) and asserts the window's pixels in the framebuffer; prints PASS or FAIL.
set -euo pipefail

#   examples/xfill-check.sh [--display :N]
# xfill draws a 200x150 window at +100+80 in #c0ffee. Through the exposed
# display, `sidecar pixels` must count exactly 200*150 pixels of that colour
# inside the window and none outside it. The VM is then stopped with SIGTERM.
# --display: the host display to expose (default: the first free one from
# :98, the one examples/xfill.toml names). $SIDECAR: the sidecar binary
# (default target/release/sidecar). The VM root comes from scripts/xvfb-root
# (HEAVY the first time: it cross-builds the X stack). On failure the VM log
# and a screenshot are kept and their directory is printed.

geometry=200x150+100+80
color='#c0ffee'
window_timeout=120

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
sidecar="${SIDECAR:-$repo/target/release/sidecar}"
die() { echo "xfill-check: $*" >&2; exit 2; }
[[ -x "$sidecar" ]] || die "$sidecar missing: run cargo build --release"

display=""
case "${1:-}" in
--display) display="${2:?--display needs :N}" ;;
"") ;;
*) die "usage: examples/xfill-check.sh [--display :N]" ;;
esac

# A display is taken when a server answers on its socket, or a live native
# server holds its lock (it may listen on the abstract socket only).
in_use() {
    local n="$1" pid
    if [[ -f "/tmp/.X$n-lock" ]]; then
        pid="$(tr -dc 0-9 <"/tmp/.X$n-lock")"
        [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && return 0
    fi
    [[ -S "/tmp/.X11-unix/X$n" ]] &&
        "$sidecar" pixels --display ":$n" --color '#000000' >/dev/null 2>&1
}
if [[ -n "$display" ]]; then
    n="${display#:}"
    [[ "$n" =~ ^[0-9]+$ ]] || die "bad display $display (want :N)"
    ! in_use "$n" || die "display :$n is in use"
else
    n=98
    while in_use "$n"; do
        n=$((n + 1))
        ((n < 200)) || die "no free display in :98..:199"
    done
fi

root="$(scripts/xvfb-root | tail -n 1)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/xfill-check.XXXXXX")"
vm_pid=""
keep=0
cleanup() {
    if [[ -n "$vm_pid" ]] && kill -0 "$vm_pid" 2>/dev/null; then
        kill -KILL "$vm_pid" 2>/dev/null || true
        wait "$vm_pid" 2>/dev/null || true
    fi
    # A killed sidecar leaves its host socket behind.
    rm -f "/tmp/.X11-unix/X$n"
    ((keep)) || rm -rf "$tmp"
}
trap cleanup EXIT

# examples/xfill.toml with the staged root's absolute path and display :N.
sed -e "s|^root = \"xvfb-root\"$|root = \"$root\"|" \
    -e "s|^host = \"/tmp/.X11-unix/X98\"$|host = \"/tmp/.X11-unix/X$n\"|" \
    examples/xfill.toml >"$tmp/vm.toml"
grep -qx "root = \"$root\"" "$tmp/vm.toml" && grep -qx "host = \"/tmp/.X11-unix/X$n\"" "$tmp/vm.toml" ||
    die "examples/xfill.toml no longer has the root and host lines this script rewrites"

start=$SECONDS
"$sidecar" run "$tmp/vm.toml" >"$tmp/vm.log" 2>&1 </dev/null &
vm_pid=$!

fail() {
    keep=1
    "$sidecar" screenshot --display ":$n" -o "$tmp/screen.png" >/dev/null 2>&1 || true
    echo "xfill-check: FAIL: $* (display :$n; VM log and screenshot in $tmp)"
    echo "---- VM log ----"
    tail -n 40 "$tmp/vm.log"
    exit 1
}

# xfill prints its line once the fill has reached the server (XSync).
want="xfill: filled $geometry $color"
until grep -q '^xfill: filled ' "$tmp/vm.log"; do
    kill -0 "$vm_pid" 2>/dev/null || fail "the VM exited before xfill drew its window"
    ((SECONDS - start < window_timeout)) || fail "no window within $window_timeout s"
    sleep 0.1
done
got="$(grep -m1 '^xfill: filled ' "$tmp/vm.log")"
[[ "$got" == "$want" ]] || fail "xfill said \"$got\", expected \"$want\""

w="${geometry%%x*}"
h="${geometry#*x}"
h="${h%%+*}"
total="$("$sidecar" pixels --display ":$n" --color "$color")" || fail "sidecar pixels failed"
inside="$("$sidecar" pixels --display ":$n" --color "$color" --region "$geometry")" ||
    fail "sidecar pixels failed"
outside=$((total - inside))
result="$inside of the ${w}x$h pixels inside the window are $color, $outside outside it"
((inside == w * h && outside == 0)) || fail "$result"

# SIGTERM is passed on to the guests; the VM must end on its own.
kill -TERM "$vm_pid"
for _ in $(seq 100); do
    kill -0 "$vm_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$vm_pid" 2>/dev/null && fail "the VM did not end within 10 s of SIGTERM"
wait "$vm_pid" || true
vm_pid=""
echo "xfill-check: PASS: $result (display :$n, $((SECONDS - start)) s)"
