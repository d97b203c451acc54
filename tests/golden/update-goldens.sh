#!/usr/bin/env bash
# Regenerates reports/golden/*.json from the bundled samples with the built lastack.
# Usage: tests/golden/update-goldens.sh [BUILD_DIR]   (default: build)
# Read `git diff reports/golden` before committing: a golden changes only on purpose.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
lastack="$build/lastack"
[ -x "$lastack" ] || { echo "update-goldens: $lastack not built" >&2; exit 2; }
cd "$top"
mkdir -p reports/golden
rm -f reports/golden/*.json
find samples -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.gz' -o -name '*.zst' \) | LC_ALL=C sort |
while IFS= read -r sample; do
  rel=${sample#samples/}
  dir=${rel%%/*}
  name="${dir}__${rel#*/}"
  name=${name//\//_}
  # Exit 1 (findings) and 2 (corrupt public captures) are expected; the report is still written.
  "$lastack" analyze "$sample" --connections all --quiet \
    --json "reports/golden/$name.json" || true
done
echo "update-goldens: $(ls reports/golden | wc -l) golden reports written; review: git diff --stat reports/golden"
