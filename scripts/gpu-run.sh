#!/usr/bin/env bash
# .gpu/run.sh (scripts/gpu-pack.sh copies this file there): runs the prover benchmark
# (benchmarks/prove.ts, bundled as .gpu/prove.mjs) on a Linux x86-64 machine that has no Node.js,
# no npm and no network, with everything taken from the pack: Node, Dawn (webgpu), the Vulkan
# loader. Run from anywhere; results land in <repo>/benchmarks/results and, where $OUT is
# set, in $OUT too (prove.md, prove.json, the SVG charts and run.log).
#
#   bash .gpu/run.sh                     the device check: the GPU MSM tuned at 2^20 (msm-tune.ts), then G1 MSMs and proofs 2^12..2^20, G2 MSMs 2^16..2^20,
#                                        snarkjs, wasm and webgpu, prepared keys too, stage timings, and webgpu+pre (16
#                                        precomputed copies of kept bases: MSMs and prepared proofs); under 8 minutes on
#                                        the H200 machine (no size started after --budget-s 300)
#   bash .gpu/run.sh [benchmark flags]   e.g. --msm 16,18,20 --proofs 16,18,20,22 --backends webgpu
#   bash .gpu/run.sh --diag              the set-up and the adapter probe only
set -uo pipefail
pack=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$pack")
# what is unpacked, outside .gpu so that .gpu stays small enough to carry again (.cache/ is ignored)
rt=${GPU_PACK_RT:-$repo/.cache/gpu-rt}
say() { printf '== %s\n' "$*"; }
LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)

# gunzip $1 to $2 unless $2 is already there and newer
unz() {
  if [ -s "$2" ] && [ "$2" -nt "$1" ]; then return 0; fi
  mkdir -p "$(dirname "$2")" && gzip -dc "$1" > "$2.tmp" && mv "$2.tmp" "$2"
}
# whether the dynamic loader finds a library by name (LD_LIBRARY_PATH or ld.so.cache)
have_lib() {
  local d
  local IFS=:
  for d in ${LD_LIBRARY_PATH:-}; do [ -n "$d" ] && [ -e "$d/$1" ] && return 0; done
  "$LDCONFIG" -p 2>/dev/null | grep -q "[[:space:]]$1 "
}
add_lib() { case ":${LD_LIBRARY_PATH:-}:" in *":$1:"*) ;; *) export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$1" ;; esac; }

# ---- unpack ----------------------------------------------------------------------------------
set -e
unz "$pack/node.gz" "$rt/bin/node"
chmod +x "$rt/bin/node"
unz "$pack/node_modules/webgpu/dist/linux-x64/dawn.node.gz" "$rt/dawn.node"
ln -sf "$rt/dawn.node" "$pack/node_modules/webgpu/dist/linux-x64/dawn.node"
if [ ! -d "$rt/lib" ] || [ "$pack/libs.tar.gz" -nt "$rt/lib" ]; then
  rm -rf "$rt/lib" && mkdir -p "$rt/lib" && tar -xzf "$pack/libs.tar.gz" -C "$rt/lib" && touch "$rt/lib"
fi
set +e
export PATH="$rt/bin:$PATH"

# NVIDIA's driver libraries and tools where the container has them outside the usual places
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && add_lib "$d"; done
[ -d /usr/local/nvidia/bin ] && export PATH="$PATH:/usr/local/nvidia/bin"

icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
# The Vulkan loader and libglvnd's libraries (NVIDIA's driver links against them; without them
# Dawn reports "Could not get 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr' for ICD
# libGLX_nvidia.so.0"): Debian's packages unpacked into / where we are root with dpkg and there
# is a Vulkan driver to load (a machine without one is left as it was); otherwise the pack's
# loader by LD_LIBRARY_PATH. GPU_PACK_NO_INSTALL=1: never into /.
drivers=$(ls "$icd" /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | head -1)
if [ -z "${GPU_PACK_NO_INSTALL:-}" ] && [ -n "$drivers" ] && [ "$(id -u)" = 0 ] && command -v dpkg > /dev/null; then
  for deb in "$pack"/debs/*.deb; do
    [ -f "$deb" ] || continue
    name=$(basename "$deb")
    # a package the machine has installed is left alone
    dpkg-query -W -f='${Status}' "${name%%_*}" 2>/dev/null | grep -q 'ok installed' && continue
    say "dpkg -x $name /"
    dpkg -x "$deb" /
  done
  "$LDCONFIG"
fi
have_lib libvulkan.so.1 || add_lib "$rt/lib/vulkan"
# src/prover/webgpu/device.ts looks for libvulkan.so.1 in LD_LIBRARY_PATH and the usual folders only
vk=$("$LDCONFIG" -p 2>/dev/null | awk '$1 == "libvulkan.so.1" && /x86-64/ { print $NF; exit }')
case "${vk%/*}" in
  "" | /usr/lib/x86_64-linux-gnu | /usr/lib64 | /usr/lib | /lib/x86_64-linux-gnu | /lib64 | /usr/local/lib) ;;
  *) add_lib "${vk%/*}" ;;
esac
# libglvnd's dispatcher, which NVIDIA's GLX/Vulkan library links against; libstdc++ for Node and Dawn
have_lib libGLdispatch.so.0 || add_lib "$rt/lib/glvnd"
if LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} ldd "$rt/bin/node" 2>/dev/null | grep -q 'not found'; then add_lib "$rt/lib/cxx"; fi

if [ -f "$icd" ]; then
  export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd # the second for loaders older than 1.3.207
fi
[ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl

# ---- what there is ---------------------------------------------------------------------------
say "nvidia-smi -L"
nvidia-smi -L 2>&1 || echo "(no nvidia-smi)"
say "node $("$rt/bin/node" --version) ($rt/bin/node), $(nproc) cores, $(uname -sr)"
say "ldconfig -p | grep vulkan"
"$LDCONFIG" -p 2>/dev/null | grep -i vulkan || echo "(none in ld.so.cache)"
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-(unset: default search)}"
echo "__EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-(unset)}"
for f in ${VK_DRIVER_FILES:-} /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json; do
  [ -f "$f" ] || continue
  lib=$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | head -1)
  path=$lib
  if [ -n "$lib" ] && [ "${lib#/}" = "$lib" ]; then
    path=""
    IFS=: read -ra dirs <<< "${LD_LIBRARY_PATH:-}"
    for d in "${dirs[@]}"; do [ -n "$d" ] && [ -e "$d/$lib" ] && path=$d/$lib && break; done
    [ -n "$path" ] || path=$("$LDCONFIG" -p 2>/dev/null | awk -v l="$lib" '$1 == l { print $NF; exit }')
  fi
  if [ -n "$path" ] && [ -e "$path" ]; then
    missing=$(ldd "$path" 2>/dev/null | grep 'not found' | tr -s ' \t' ' ' | paste -sd';' -)
    echo "ICD $f: $lib -> $path${missing:+ MISSING:$missing}"
  else
    echo "ICD $f: $lib NOT FOUND"
  fi
done
say "Dawn adapters (Vulkan loader errors on)"
(cd "$repo" && VK_LOADER_DEBUG=error,warn timeout 60 node "$pack/probe.mjs" 2>&1 | grep -v 'artificially reduced' | head -40)
[ "${1:-}" = "--diag" ] && exit 0

# ---- the benchmark ---------------------------------------------------------------------------
# no flags: the device check (sized for a 15-minute device session with room for a rerun)
[ $# -eq 0 ] && set -- --tune 20 --msm 12,14,16,18,20 --proofs 12,14,16,18,20 --g2-msm 16,18,20 --backends wasm,webgpu --runs 2 --msm-runs 3 --prepared --gpu-pre 16 --budget-s 300
cd "$repo"
say "node .gpu/prove.mjs $*"
touch "$rt/started"
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  node "$pack/prove.mjs" "$@" 2>&1 | tee "$OUT/run.log"
  rc=${PIPESTATUS[0]}
  # this run's results only (benchmarks/results also holds the committed ones)
  for f in prove.md prove.json prove-msm.svg prove-proofs.svg; do
    if [ "benchmarks/results/$f" -nt "$rt/started" ]; then cp "benchmarks/results/$f" "$OUT/"; fi
  done
  say "exit $rc; in \$OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
else
  node "$pack/prove.mjs" "$@"
  rc=$?
fi
exit "$rc"
