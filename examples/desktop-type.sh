#!/usr/bin/env bash
# Boots examples/desktop.toml, types a command into xterm as keystrokes and asserts what it draws on the framebuffer; prints PASS or FAIL.
set -euo pipefail

#   examples/desktop-type.sh [--display :N]
# The keys go through X, xterm, the PTY and dash, which starts xfill (an X
# client guest): a 60x40 rectangle of #ff00ff must appear, exactly 2400
# pixels of it. Every wait is for an event (a mapped window, pixels drawn),
# none is a sleep. --display: the host display to expose (default: the
# first free one from :99). $SIDECAR: the sidecar binary (default
# target/release/sidecar). The VM root comes from scripts/desktop-root
# (HEAVY the first time). On failure the VM log and a screenshot are kept.

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$repo"
n="$(display_arg 99 "$@")"
display=":$n"
root="$(scripts/desktop-root | tail -n 1)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/desktop-type.XXXXXX")"
sed -e "s|^root = \"desktop-root\"$|root = \"$root\"|" \
    -e "s|^host = \"/tmp/.X11-unix/X99\"$|host = \"/tmp/.X11-unix/X$n\"|" \
    examples/desktop.toml >"$tmp/vm.toml"
start=$SECONDS
"$sidecar" run "$tmp/vm.toml" >"$tmp/vm.log" 2>&1 </dev/null &
vm=$!
keep=0
trap 'stop_vm "$vm" || true; ((keep)) || rm -rf "$tmp"' EXIT
fail() {
    keep=1
    "$sidecar" screenshot --display "$display" -o "$tmp/screen.png" >/dev/null 2>&1 || true
    echo "desktop-type: FAIL: $* (display $display; VM log and screenshot in $tmp)"
    tail -n 40 "$tmp/vm.log"
    exit 1
}

"$sidecar" wait --display "$display" --window xterm --managed --timeout 120 >/dev/null ||
    fail "xterm's window did not appear"
# dash's prompt: a green "$" (PS1 in examples/desktop.toml).
"$sidecar" wait --display "$display" --color '#00cd00' --timeout 60 >/dev/null ||
    fail "dash's prompt did not appear"
"$sidecar" input --display "$display" type 'xfill 60x40+700+500 "#ff00ff" &'$'\n'
got="$("$sidecar" wait --display "$display" --color '#ff00ff' --count 2400 --timeout 60)" ||
    fail "the typed command did not draw 2400 pixels of #ff00ff"
echo "desktop-type: PASS: typed into xterm, dash ran xfill: $got pixels of #ff00ff (display $display, $((SECONDS - start)) s)"
