#!/usr/bin/env bash
# Download (no install) Debian's 6.12 cloud kernels from bookworm-backports and extract the
# boot images into the git-ignored cache .cache/kernels/.
#
# Result (paths printed at the end):
#   .cache/kernels/amd64/vmlinuz      x86 bzImage (bootable with qemu -kernel)
#   .cache/kernels/amd64/config       its kernel config
#   .cache/kernels/amd64/modules/     the KVM modules of the same package, as shipped:
#                                     irqbypass.ko.xz kvm.ko.xz kvm-amd.ko.xz (for the nested
#                                     L1 lab, scripts/mk-l1-initramfs.sh; the arm64 kernel has
#                                     KVM built in)
#   .cache/kernels/arm64/Image        plain arm64 Image (what the tests pass to -kernel)
#   .cache/kernels/arm64/vmlinuz      the file as shipped (6.12: already a plain Image, so
#                                     Image is a hard link to it; a gzip one is decompressed)
#   .cache/kernels/arm64/config
#   .cache/kernels/debs/*.deb         the downloaded packages (kept: the KVM modules live there)
#   .cache/kernels/manifest.txt       one line per arch: arch, package, version, sha256s
#
# Already-cached kernels are reused with no network access; --refresh resolves the current
# package names again and downloads when they changed.
#
# Usage: scripts/fetch-kernels.sh [--refresh] [amd64|arm64 ...]      (default: amd64 arm64)
# Env:   VTOPO_KERNEL_PKG_AMD64 / VTOPO_KERNEL_PKG_ARM64 pin an exact package name.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
KDIR="$REPO_ROOT/.cache/kernels"
MANIFEST="$KDIR/manifest.txt"

usage() {
    echo "usage: $0 [--refresh] [amd64|arm64 ...]" >&2
    echo "  downloads linux-image-6.12.*+deb12-cloud-{amd64,arm64} from bookworm-backports into $KDIR" >&2
    exit 2
}

refresh=0
arches=()
for a in "$@"; do
    case $a in
        --refresh) refresh=1 ;;
        amd64|arm64) arches+=("$a") ;;
        -h|--help) usage ;;
        *) echo "fetch-kernels: unknown argument '$a'" >&2; usage ;;
    esac
done
[[ ${#arches[@]} -gt 0 ]] || arches=(amd64 arm64)

log() { echo "fetch-kernels: $*" >&2; }
mkdir -p "$KDIR/debs"

# Current exact package name: the bookworm-backports version of the metapackage
# linux-image-cloud-ARCH depends on linux-image-6.12.N+deb12-cloud-ARCH.
resolve_pkg() {
    local arch=$1 pin_var="VTOPO_KERNEL_PKG_${1^^}" meta ver dep
    if [[ -n ${!pin_var:-} ]]; then echo "${!pin_var}"; return; fi
    meta="linux-image-cloud-$arch:$arch"
    ver=$(apt-cache madison "$meta" | awk -F'|' '/bookworm-backports/ {gsub(/ /,"",$2); print $2; exit}')
    if [[ -z $ver ]]; then
        log "no bookworm-backports version of $meta: run scripts/setup.sh (backports source, arm64 arch, apt-get update)"
        return 1
    fi
    dep=$(apt-cache show "$meta=$ver" | sed -n 's/^Depends: *//p' | head -n1 | tr ',' '\n' |
          grep -oE "linux-image-6\.12\.[^ ]+-cloud-$arch" | head -n1)
    if [[ -z $dep ]]; then
        log "could not resolve the kernel package from $meta=$ver"
        return 1
    fi
    echo "$dep"
}

manifest_get() { # arch key
    [[ -f $MANIFEST ]] || return 0
    awk -v a="$1" -v k="$2" '{ ok=0; v="" ; for(i=1;i<=NF;i++){ split($i,kv,"="); if(kv[1]=="arch"&&kv[2]==a) ok=1; if(kv[1]==k) v=substr($i,length(k)+2) } if(ok){print v; exit} }' "$MANIFEST"
}

manifest_put() { # arch line
    local tmp
    tmp=$(mktemp)
    if [[ -f $MANIFEST ]]; then grep -v "^arch=$1 " "$MANIFEST" >"$tmp" || true; fi
    echo "$2" >>"$tmp"
    sort -o "$tmp" "$tmp"
    chmod 0644 "$tmp"
    mv "$tmp" "$MANIFEST"
}

# The amd64 KVM modules (irqbypass, kvm, kvm-amd) of the kernel package DEB, as shipped
# (.ko.xz), into OUT/modules/. Needs no network: the .deb is kept in debs/.
KVM_MODULES=(virt/lib/irqbypass.ko.xz arch/x86/kvm/kvm.ko.xz arch/x86/kvm/kvm-amd.ko.xz)
have_kvm_modules() { # out
    local m
    for m in "${KVM_MODULES[@]}"; do [[ -f $1/modules/${m##*/} ]] || return 1; done
}
extract_kvm_modules() { # deb out
    local deb=$1 out=$2 tmp m f
    tmp=$(mktemp -d)
    local patterns=()
    for m in "${KVM_MODULES[@]}"; do patterns+=("./lib/modules/*/kernel/$m"); done
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards "${patterns[@]}"
    mkdir -p "$out/modules"
    for m in "${KVM_MODULES[@]}"; do
        f=$(ls "$tmp"/lib/modules/*/kernel/"$m")
        install -m 0644 "$f" "$out/modules/${m##*/}"
    done
    rm -rf "$tmp"
    log "amd64: KVM modules in $out/modules/"
}

fetch_one() {
    local arch=$1 out="$KDIR/$1" pkg deb ver tmp vmlinuz cfg kernel
    local cached_pkg
    cached_pkg=$(manifest_get "$arch" package)
    kernel=$out/vmlinuz; [[ $arch == arm64 ]] && kernel=$out/Image

    local pin_var="VTOPO_KERNEL_PKG_${arch^^}"
    if [[ $refresh -eq 0 && -n $cached_pkg && -f $kernel && -f $out/config ]] &&
       [[ -z ${!pin_var:-} || $cached_pkg == "${!pin_var}" ]]; then
        log "$arch: cached $cached_pkg $(manifest_get "$arch" version)"
        if [[ $arch == amd64 ]] && ! have_kvm_modules "$out"; then
            deb="$KDIR/$(manifest_get "$arch" deb)"
            if [[ -f $deb ]]; then
                extract_kvm_modules "$deb" "$out"
            else
                log "amd64: KVM modules missing and $deb gone: run with --refresh"
                return 1
            fi
        fi
        return 0
    fi

    pkg=$(resolve_pkg "$arch")
    deb=$(ls "$KDIR/debs/${pkg}"_*_"$arch".deb 2>/dev/null | head -n1 || true)
    if [[ -z $deb ]]; then
        log "$arch: apt-get download $pkg:$arch"
        (cd "$KDIR/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg:$arch" >&2)
        deb=$(ls "$KDIR/debs/${pkg}"_*_"$arch".deb | head -n1)
    else
        log "$arch: using downloaded $(basename "$deb")"
    fi
    ver=$(dpkg-deb -f "$deb" Version)

    tmp=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/*'
    vmlinuz=$(ls "$tmp"/boot/vmlinuz-* | head -n1)
    cfg=$(ls "$tmp"/boot/config-* | head -n1)
    mkdir -p "$out"
    install -m 0644 "$vmlinuz" "$out/vmlinuz"
    install -m 0644 "$cfg" "$out/config"
    if [[ $arch == arm64 ]]; then
        # Debian's 6.12 arm64 vmlinuz is already a plain (uncompressed) arm64 Image, which
        # QEMU -kernel boots directly (with and without -bios). Older Debian arm64 kernels
        # shipped it gzip-compressed: decompress in that case so that every loader (and our
        # own VMM) gets a plain Image under one stable name.
        if gzip -t "$out/vmlinuz" 2>/dev/null; then
            gzip -dc "$out/vmlinuz" >"$out/Image.tmp"
            mv "$out/Image.tmp" "$out/Image"
        else
            ln -f "$out/vmlinuz" "$out/Image"
        fi
    fi
    [[ $arch != amd64 ]] || extract_kvm_modules "$deb" "$out"
    manifest_put "$arch" "arch=$arch package=$pkg version=$ver kernel_release=${vmlinuz##*/vmlinuz-} deb=debs/$(basename "$deb") deb_sha256=$(sha256sum "$deb" | cut -d' ' -f1) kernel=$arch/$(basename "$kernel") kernel_sha256=$(sha256sum "$kernel" | cut -d' ' -f1)"
    log "$arch: extracted $pkg $ver"
}

for a in "${arches[@]}"; do fetch_one "$a"; done

for a in "${arches[@]}"; do
    if [[ $a == amd64 ]]; then
        echo "amd64 kernel: $KDIR/amd64/vmlinuz"
        echo "amd64 KVM modules: $KDIR/amd64/modules/"
    else
        echo "arm64 kernel: $KDIR/arm64/Image"
    fi
    echo "$a config: $KDIR/$a/config"
done
echo "manifest: $MANIFEST"
