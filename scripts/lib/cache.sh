# Cached builds: directories keyed by a hash of their inputs, built in a
# temporary directory and published with one rename (sourced, not run; by
# scripts/*, scripts/third-party/lib.sh and guests/sdk/bin/sidecar-cc).
# shellcheck shell=bash

# Every cache lives here.
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/sidecar"

# cache_list INPUT...: prints what identifies the contents of the inputs, in
# order, each after a line "dir" or "file": for a file, its SHA-256; for a
# directory, the path (relative to the directory) and SHA-256 of every file
# below it and the target of every symlink, sorted. Where an input lies does
# not count, so two checkouts get the same list.
cache_list() {
    local p
    for p in "$@"; do
        if [[ -d "$p" ]]; then
            echo dir
            (cd "$p" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum &&
                find . -type l -printf '%p -> %l\n' | LC_ALL=C sort) || return 1
        elif [[ -f "$p" ]]; then
            echo file
            sha256sum <"$p" || return 1
        else
            echo "cache: $p: no such file or directory" >&2
            return 1
        fi
    done
}

# cache_key [--text STR]... INPUT...: the key of the inputs (cache_list) and
# of the STRs (flags and the like), 16 hex digits.
cache_key() {
    local texts="" list
    while [[ "${1:-}" == --text ]]; do
        texts+="text $2"$'\n'
        shift 2
    done
    list="$(cache_list "$@")" || return 1
    printf '%s%s\n' "$texts" "$list" | sha256sum | cut -c1-16
}

# cached_build [--fixed] [--text STR]... NAME BUILD INPUT...
#   Makes sure the cache entry for the key of INPUT... and STR... (cache_key)
#   exists, and sets cache_out to its path. With BASE = $cache_root/NAME (or
#   NAME itself if it is an absolute path), the entry is
#     BASE/<key>/  by default: one directory per key, all kept (checkouts at
#                  other revisions share them), complete once its .complete
#                  holds the key;
#     BASE/        with --fixed: one directory, at a path other files point
#                  to, replaced when the key changes; its key is in
#                  BASE.stamp.
#   When the entry is missing or stale, runs `BUILD TMP` (a command or
#   function, in the current directory and shell) to fill TMP, an empty
#   directory (mode 755) beside the entry, and publishes TMP as the entry
#   with one rename; if a concurrent build published the same key first, its
#   copy is kept. A failed BUILD exits the script (with set -e) and leaves
#   nothing behind; call cached_build as a plain command, not in a condition.
cached_build() {
    # Locals are prefixed: BUILD runs in their scope.
    local _cb_fixed=0 _cb_keyargs=() _cb_name _cb_build _cb_key _cb_out _cb_stamp _cb_tmp _cb_old _cb_saved
    while (($#)); do
        case "$1" in
        --fixed) _cb_fixed=1 && shift ;;
        --text) _cb_keyargs+=(--text "$2") && shift 2 ;;
        *) break ;;
        esac
    done
    _cb_name="$1" _cb_build="$2"
    shift 2
    [[ "$_cb_name" == /* ]] || _cb_name="$cache_root/$_cb_name"
    _cb_key="$(cache_key ${_cb_keyargs[@]+"${_cb_keyargs[@]}"} "$@")" || return 1
    if ((_cb_fixed)); then
        _cb_out="$_cb_name"
        _cb_stamp="$_cb_out.stamp"
    else
        _cb_out="$_cb_name/$_cb_key"
        _cb_stamp="$_cb_out/.complete"
    fi
    cache_out="$_cb_out"
    _cache_complete "$_cb_out" "$_cb_stamp" "$_cb_key" && return 0

    mkdir -p "${_cb_out%/*}"
    _cb_tmp="$(mktemp -d "${_cb_out%/*}/.${_cb_out##*/}.build.XXXXXX")"
    _cache_tmp="$_cb_tmp"
    _cb_saved="$(trap -p EXIT)"
    trap 'rm -rf "$_cache_tmp"' EXIT
    chmod 755 "$_cb_tmp"
    "$_cb_build" "$_cb_tmp"
    ((_cb_fixed)) || echo "$_cb_key" >"$_cb_tmp/.complete"
    if mv -T "$_cb_tmp" "$_cb_out" 2>/dev/null; then
        :
    elif _cache_complete "$_cb_out" "$_cb_stamp" "$_cb_key"; then
        # A concurrent build won the race: keep its copy.
        rm -rf "$_cb_tmp"
    else
        # The entry of another key (--fixed), or a partial one: replace it.
        rm -f "$_cb_stamp"
        _cb_old="$(mktemp -d "${_cb_out%/*}/.${_cb_out##*/}.old.XXXXXX")"
        mv -T "$_cb_out" "$_cb_old"
        mv -T "$_cb_tmp" "$_cb_out"
        rm -rf "$_cb_old"
    fi
    if ((_cb_fixed)) && ! _cache_complete "$_cb_out" "$_cb_stamp" "$_cb_key"; then
        echo "$_cb_key" >"$_cb_stamp.$$"
        mv -f "$_cb_stamp.$$" "$_cb_stamp"
    fi
    eval "${_cb_saved:-trap - EXIT}"
}

# Whether the entry OUT exists and STAMP holds KEY.
_cache_complete() {
    [[ -d "$1" && -f "$2" && "$(<"$2")" == "$3" ]]
}
