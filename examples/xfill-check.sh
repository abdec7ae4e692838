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

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$repo"
n="$(display_arg 98 "$@")"

root="$(scripts/xvfb-root | tail -n 1)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/xfill-check.XXXXXX")"
vm_pid=""
keep=0
cleanup() {
    if [[ -n "$vm_pid" ]]; then stop_vm "$vm_pid" 1 || true; fi
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
    { echo "xfill-check: examples/xfill.toml no longer has the root and host lines this script rewrites" >&2; exit 2; }

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

# Wait for the fill itself (DAMAGE events, no polling).
"$sidecar" wait --display ":$n" --color "$color" --at-least 1 --timeout "$window_timeout" >/dev/null ||
    fail "no window within $window_timeout s"
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
stop_vm "$vm_pid" || fail "the VM did not end within 10 s of SIGTERM"
vm_pid=""
# xfill says what it filled once the fill had reached the server (XSync).
want="xfill: filled $geometry $color"
got="$(grep -m1 '^xfill: filled ' "$tmp/vm.log" || true)"
[[ "$got" == "$want" ]] || fail "xfill said \"$got\", expected \"$want\""
echo "xfill-check: PASS: $result (display :$n, $((SECONDS - start)) s)"
