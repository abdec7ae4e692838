# Shared paths and helpers for scripts/third-party/* (sourced, not run).
# shellcheck shell=bash

tp_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/cache.sh
source "$tp_root/scripts/lib/cache.sh"
tp_scripts="$tp_root/scripts/third-party"
tp_lock="$tp_scripts/packages.lock"
tp_patches="$tp_root/patches"
tp_src="$tp_root/third_party"
tp_sdk="$tp_root/guests/sdk"
tp_cache="$cache_root"
tp_downloads="$tp_cache/downloads"
# Binary .debs (headers, data, native tools) are unpacked here, one dir each.
tp_debroot="$tp_downloads/debroot"
export SIDECAR_SYSROOT="${SIDECAR_SYSROOT:-$tp_cache/sysroot}"
tp_sysroot="$SIDECAR_SYSROOT"

tp_die() { echo "${0##*/}: $*" >&2; exit 1; }
tp_log() { echo "${0##*/}: $*" >&2; }

# Prints the lock entries of one kind ("src" or "deb"), comments stripped:
#   kind package version suite file sha256
tp_lock_entries() {
    awk -v kind="$1" '!/^[[:space:]]*(#|$)/ && $1 == kind' "$tp_lock"
}

# tp_lock_get KIND PKG: the lock line of PKG (empty if none).
tp_lock_get() {
    awk -v kind="$1" -v pkg="$2" '!/^[[:space:]]*(#|$)/ && $1 == kind && $2 == pkg' "$tp_lock"
}

# Upstream version of a Debian version: drop epoch, Debian revision and
# repack suffixes (+dfsg, .dfsg, +ds).
tp_upstream_version() {
    local v="${1#*:}"
    v="${v%-*}"
    v="${v%%[+~.]dfsg*}"
    v="${v%%[+~]ds*}"
    echo "$v"
}

# tp_lock_version KIND PKG: version of a pinned package (upstream part, no
# epoch or revision).
tp_lock_version() {
    local line what="$1 $2"
    [[ "$1" == src ]] && what="$2"
    line="$(tp_lock_get "$1" "$2")"
    [[ -n "$line" ]] || tp_die "$what is not in the lock"
    tp_upstream_version "$(awk '{ print $3 }' <<<"$line")"
}

# Version of a pinned binary package (for recipes).
tp_deb_version() { tp_lock_version deb "$1"; }
