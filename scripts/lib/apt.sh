# Installing the Debian packages a script needs (sourced, not run; by
# scripts/install-deps and scripts/third-party/install-build-deps).
# shellcheck shell=bash

# apt_install_missing PKG...: installs with apt-get (through sudo unless
# root) the PKGs that dpkg does not report installed; nothing if none.
apt_install_missing() {
    local pkg status missing=() sudo=()
    for pkg in "$@"; do
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
    echo "${0##*/}: installing ${missing[*]}" >&2
    ${sudo[@]+"${sudo[@]}"} apt-get update
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}
