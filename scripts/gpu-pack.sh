#!/usr/bin/env bash
# Makes .gpu/ (git-ignored): everything the prover benchmark (benchmarks/prove.ts) needs on a
# Linux x86-64 GPU machine with no Node.js, no npm and no network, small enough to travel with
# the working tree (64 MiB in all, the tracked files included):
#   node.gz                         this machine's Node (stripped of symbols), gzip
#   prove.mjs                       the benchmark bundled by esbuild (scripts/gpu-pack.mjs)
#   probe.mjs                       lists the adapters Dawn finds
#   node_modules/webgpu/            index.js + dist/linux-x64/dawn.node.gz (stripped, gzip)
#   node_modules/web-worker/        ffjavascript's worker threads (a file of its own)
#   debs/*.deb                      Debian's Vulkan loader and libglvnd's libraries (libvulkan1
#                                   libglvnd0 libegl1 libopengl0 libgl1 libglx0 libgles2), for
#                                   `dpkg -x … /` there: NVIDIA's Vulkan driver needs them
#   libs.tar.gz                     fallbacks used only where the machine lacks them: libvulkan.so.1,
#                                   libGLdispatch.so.0 (libglvnd0), libstdc++.so.6 + libgcc_s.so.1
#   run.sh                          the one command there (scripts/gpu-run.sh)
# gzip rather than xz: gzip is in every base image, xz-utils is not (xz would save ~10 MB on Node).
#
#   bash scripts/gpu-pack.sh            then, on the device: bash .gpu/run.sh --msm … --proofs …
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/.gpu
cache=$root/.cache/gpu-pack # downloaded .debs, kept between runs (.cache/ is ignored)
cd "$root"
say() { printf 'gpu-pack: %s\n' "$*"; }

[ -d node_modules/esbuild ] && [ -d node_modules/webgpu ] || { echo "gpu-pack: npm ci first" >&2; exit 1; }
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "gpu-pack: makes a linux-x64 pack, run it on linux-x64" >&2; exit 1; }
node=$(command -v node)
node_version=$(node --version)
[ "${node_version%%.*}" = "v20" ] || say "warning: Node $node_version (the project targets Node 20)"

rm -rf "$out"
mkdir -p "$out/debs" "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Node
say "node $node_version from $node"
if command -v strip > /dev/null; then strip -o "$tmp/node" "$node"; else cp "$node" "$tmp/node"; fi
gzip -9 -n -c "$tmp/node" > "$out/node.gz"

# 2. the bundle and its node_modules
node scripts/gpu-pack.mjs "$out"

# 3. Dawn
dawn=node_modules/webgpu/dist/linux-x64/dawn.node
if command -v strip > /dev/null; then strip -o "$tmp/dawn.node" "$dawn"; else cp "$dawn" "$tmp/dawn.node"; fi
gzip -9 -n -c "$tmp/dawn.node" > "$out/node_modules/webgpu/dist/linux-x64/dawn.node.gz"

# 4. the Vulkan loader and libglvnd's libraries from Debian, downloaded once: on the lent NVIDIA
# machines Dawn finds the GPU only with all of these unpacked into / (DESIGN.md §7)
for pkg in libvulkan1 libglvnd0 libegl1 libopengl0 libgl1 libglx0 libgles2; do
  if ! ls "$cache/${pkg}"_*.deb > /dev/null 2>&1; then
    (cd "$cache" && apt-get download "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  fi
  ls "$cache/${pkg}"_*.deb > /dev/null 2>&1 || { echo "gpu-pack: could not download $pkg (apt-get download $pkg)" >&2; exit 1; }
done
for pkg in libvulkan1 libglvnd0 libegl1 libopengl0 libgl1 libglx0 libgles2; do cp "$cache/${pkg}"_*.deb "$out/debs/"; done
mkdir -p "$tmp/x" "$tmp/lib/vulkan" "$tmp/lib/glvnd" "$tmp/lib/cxx"
for d in "$cache"/libvulkan1_*.deb "$cache"/libglvnd0_*.deb; do dpkg-deb -x "$d" "$tmp/x"; done
cp -L "$tmp/x/usr/lib/x86_64-linux-gnu/libvulkan.so.1" "$tmp/lib/vulkan/"
cp -L "$tmp/x/usr/lib/x86_64-linux-gnu/libGLdispatch.so.0" "$tmp/lib/glvnd/"
for l in libstdc++.so.6 libgcc_s.so.1; do
  p=$(ldd "$node" | awk -v l="$l" '$1 == l { print $3 }')
  [ -n "$p" ] && cp -L "$p" "$tmp/lib/cxx/"
done
tar -czf "$out/libs.tar.gz" -C "$tmp/lib" .

# 5. the command
cp scripts/gpu-run.sh "$out/run.sh"
chmod +x "$out/run.sh"
{
  echo "made by scripts/gpu-pack.sh on $(date -u +%FT%TZ) at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "node $node_version; webgpu $(node -p "require('./node_modules/webgpu/package.json').version"); $(basename "$out"/debs/libvulkan1_*.deb)"
} > "$out/MANIFEST.txt"

# sizes: the pack and what else travels (tracked files and untracked ones git does not ignore)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
bytes() { du -cb "$@" | tail -1 | cut -f1; }
say "sizes:"
for f in node.gz prove.mjs node_modules/webgpu/dist/linux-x64/dawn.node.gz debs libs.tar.gz; do
  printf '  %-50s %s\n' "$f" "$(mib "$(bytes "$out/$f")")"
done
pack=$(bytes "$out")
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2> /dev/null | tail -1 | cut -f1)
printf '  %-50s %s\n' ".gpu in all" "$(mib "$pack")" "working tree (tracked + untracked, not ignored)" "$(mib "$tree")" "travels with carry [.gpu]" "$(mib $((pack + tree)))"
limit=$((60 * 1048576)) # 64 MiB less room to spare
if [ $((pack + tree)) -gt "$limit" ]; then
  echo "gpu-pack: .gpu plus the working tree is over 60 MiB; the device takes 64 MiB in all" >&2
  exit 1
fi
say "done: on the GPU machine, carrying .gpu: bash .gpu/run.sh (the device check; flags of benchmarks/prove.ts to change it)"
