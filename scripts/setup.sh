#!/usr/bin/env bash
# Install everything the guest-lab tests need, from Debian (bookworm + bookworm-backports).
#
# Idempotent and non-interactive: every step checks first and is skipped when already done,
# so a second run takes a few seconds and does no network access.
#
# Installs:
#   - acpica-tools (iasl), busybox-static, cpio, gzip, xz-utils, zstd          (bookworm)
#   - qemu-system-x86, qemu-system-arm (QEMU 10), qemu-efi-aarch64              (bookworm-backports)
#   - the arm64 dpkg architecture, and busybox-static:arm64 *extracted* (not installed: it
#     conflicts with busybox-static:amd64) into .cache/busybox/arm64/busybox
#
# Usage: scripts/setup.sh            (no arguments)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
CACHE="$REPO_ROOT/.cache"

usage() {
    echo "usage: $0" >&2
    echo "  installs QEMU 10 (bookworm-backports), acpica-tools, busybox-static (amd64 + arm64)," >&2
    echo "  cpio, xz-utils, zstd; idempotent" >&2
    exit 2
}
[[ $# -eq 0 ]] || usage

export DEBIAN_FRONTEND=noninteractive
log() { echo "setup: $*"; }

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "setup: must run as root (or with sudo available)" >&2; exit 1
    fi
fi

# Minimum QEMU version: bookworm's 7.2 crashes on the 2nd vCPU plug.
QEMU_MIN_VERSION="1:10.0"

APT_UPDATED=0
apt_update_once() {
    if [[ $APT_UPDATED -eq 0 ]]; then
        log "apt-get update"
        $SUDO apt-get update -q >/dev/null
        APT_UPDATED=1
    fi
}

# ---- 1. bookworm-backports apt source ------------------------------------------------------
# Enabled (non-comment) lines mentioning bookworm-backports in any apt source file.
have_backports_source() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        if grep -v '^[[:space:]]*#' "$f" | grep -qw 'bookworm-backports'; then
            return 0
        fi
    done
    return 1
}

# The mirror used by the existing bookworm (non-security) source.
bookworm_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        # deb822: split into stanzas, take the URIs of a stanza whose Suites contain "bookworm".
        uri=$(awk 'BEGIN{RS="";FS="\n"}
            { u=""; s=0
              for(i=1;i<=NF;i++){
                if($i ~ /^URIs:/){ sub(/^URIs:[ \t]*/,"",$i); split($i,a,/[ \t]+/); u=a[1] }
                if($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/){ s=1 }
                if($i ~ /^Enabled:[ \t]*no/){ s=0; break }
              }
              if(s && u!=""){ print u; exit } }' "$f")
        if [[ -n $uri ]]; then echo "$uri"; return; fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        uri=$(awk '$1=="deb" { i=2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                               if ($(i+1)=="bookworm") { print $i; exit } }' "$f")
        if [[ -n $uri ]]; then echo "$uri"; return; fi
    done
    echo "http://deb.debian.org/debian"
}

if have_backports_source; then
    log "bookworm-backports apt source: present"
else
    mirror=$(bookworm_mirror)
    log "adding bookworm-backports apt source ($mirror) -> /etc/apt/sources.list.d/bookworm-backports.sources"
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    APT_UPDATED=0
    apt_update_once
fi

# ---- 2. arm64 foreign architecture ---------------------------------------------------------
if dpkg --print-foreign-architectures | grep -qx arm64; then
    log "dpkg architecture arm64: present"
else
    log "dpkg --add-architecture arm64"
    $SUDO dpkg --add-architecture arm64
    APT_UPDATED=0
    apt_update_once
fi

# ---- 3. packages ---------------------------------------------------------------------------
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }

# The aarch64 cross toolchain (guest-lab section 7): Debian's Rust with the
# arm64 standard library (rustup cannot fetch targets here), the cross linker
# and libc. Binaries are linked statically and run under qemu-user.
base_pkgs=(acpica-tools busybox-static cpio gzip xz-utils zstd
    rustc-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
missing=()
for p in "${base_pkgs[@]}"; do pkg_installed "$p" || missing+=("$p"); done
if [[ ${#missing[@]} -gt 0 ]]; then
    apt_update_once
    log "apt-get install ${missing[*]}"
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
    log "base packages: installed (${base_pkgs[*]})"
fi

bpo_pkgs=(qemu-system-x86 qemu-system-arm qemu-efi-aarch64 qemu-user-static)
missing=()
for p in "${bpo_pkgs[@]}"; do
    if ! pkg_installed "$p"; then
        missing+=("$p")
    elif [[ $p == qemu-system-* || $p == qemu-user-static ]] && ! dpkg --compare-versions "$(pkg_version "$p")" ge "$QEMU_MIN_VERSION"; then
        log "$p $(pkg_version "$p") is older than $QEMU_MIN_VERSION: upgrading from backports"
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
    apt_update_once
    log "apt-get install -t bookworm-backports ${missing[*]}"
    $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports "${missing[@]}" >/dev/null
else
    log "QEMU packages: installed (${bpo_pkgs[*]})"
fi

# ---- 4. busybox-static:arm64, extracted only -----------------------------------------------
BB_ARM64="$CACHE/busybox/arm64/busybox"
if [[ -x $BB_ARM64 ]]; then
    log "arm64 busybox: $BB_ARM64 present"
else
    mkdir -p "$CACHE/debs" "$CACHE/busybox/arm64"
    deb=$(ls "$CACHE"/debs/busybox-static_*_arm64.deb 2>/dev/null | head -n1 || true)
    if [[ -z $deb ]]; then
        apt_update_once
        log "apt-get download busybox-static:arm64 -> $CACHE/debs"
        (cd "$CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root busybox-static:arm64 >/dev/null)
        deb=$(ls "$CACHE"/debs/busybox-static_*_arm64.deb | head -n1)
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$deb" "$tmp"
    install -m 0755 "$tmp/bin/busybox" "$BB_ARM64"
    log "extracted $(basename "$deb") -> $BB_ARM64"
fi

# ---- 5. summary ----------------------------------------------------------------------------
log "qemu-system-x86_64: $(qemu-system-x86_64 --version | head -n1)"
log "qemu-system-aarch64: $(qemu-system-aarch64 --version | head -n1)"
log "rustc (Debian, aarch64 cross): $(/usr/bin/rustc --version)"
log "qemu-aarch64-static: $(qemu-aarch64-static --version | head -n1)"
log "iasl: $(iasl -v 2>/dev/null | grep -m1 -i 'version' | sed 's/^[[:space:]]*//' || echo '?')"
log "busybox (amd64): $(command -v busybox)"
log "busybox (arm64): $BB_ARM64"
log "QEMU_EFI.fd: $(ls /usr/share/qemu-efi-aarch64/QEMU_EFI.fd)"
log "done"
