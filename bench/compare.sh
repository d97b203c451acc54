#!/usr/bin/env bash
# lastack against its floor, tshark and tcptrace on the same generated capture.
#
#   bench/compare.sh [--packets N] [--runs 3] [--build DIR] [--seed S] [--pcapng]
#                    [--dir /tmp/lastack-bench] [--timeout SECONDS] [--skip tshark,tcptrace]
#                    [--plain-check]
#
# Builds DIR (Release, -DLASTACK_BUILD_BENCH=ON, -j2) when its binaries are missing, generates
# the capture and its ground truth in --dir when missing, then runs every tool --runs times
# (median; each run bounded by --timeout, measured by /usr/bin/time -v):
#   lastack   analyze CAPTURE --json R.json --db R.db --quiet    (full analysis, both outputs)
#   floor     lastack-bench-floor CAPTURE                       (read records, parse, hash tuples)
#   tshark    tshark -r CAPTURE -Y tcp.analysis.flags -T fields -e frame.number
#   tcptrace  tcptrace -l CAPTURE
# and prints time, packets/s and peak RSS per tool, lastack's ratios, and the ground-truth check
# of lastack's report. With --plain-check it also analyses a zstd copy of the capture (the
# decompressing path instead of plain reads) and checks both reports are identical apart from
# their inputs[] entries. Captures never go into the repository.
set -euo pipefail

packets=1000000
runs=3
seed=1
build=/tmp/b-bench
dir=/tmp/lastack-bench
limit=3600
skip=""
fmt=pcap
plain_check=0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

while [[ $# -gt 0 ]]; do
  case $1 in
    --packets) packets=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --timeout) limit=$2; shift 2 ;;
    --skip) skip=$2; shift 2 ;;
    --pcapng) fmt=pcapng; shift ;;
    --plain-check) plain_check=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $runs -ge 1 ]] || { echo "compare.sh: --runs must be >= 1" >&2; exit 2; }
case $dir in "$repo"|"$repo"/*) echo "compare.sh: --dir must be outside the repository" >&2; exit 2 ;; esac

# --- tools -------------------------------------------------------------------------------------
bins=(lastack bench/lastack-bench-gen bench/lastack-bench-floor bench/lastack-bench-check)
missing=0
for b in "${bins[@]}"; do [[ -x $build/$b ]] || missing=1; done
if [[ $missing == 1 ]]; then
  echo "== building $build"
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLASTACK_BUILD_BENCH=ON >/dev/null
  cmake --build "$build" -j2 --target lastack lastack-bench-gen lastack-bench-floor lastack-bench-check
fi
want() { [[ ",$skip," != *",$1,"* ]]; }
if want tcptrace && ! command -v tcptrace >/dev/null; then
  echo "== installing tcptrace"
  if [[ $(id -u) == 0 ]]; then apt-get install -y tcptrace >/dev/null || true; fi
  command -v tcptrace >/dev/null || { echo "tcptrace unavailable: skipped" >&2; skip="$skip,tcptrace"; }
fi
if want tshark && ! command -v tshark >/dev/null; then
  echo "tshark unavailable: skipped" >&2; skip="$skip,tshark"
fi

# --- capture -----------------------------------------------------------------------------------
mkdir -p "$dir"
cap=$dir/bench-s$seed-n$packets.$fmt
truth=$dir/bench-s$seed-n$packets.truth.json
if [[ ! -s $cap || ! -s $truth ]]; then
  echo "== generating $cap"
  gen_args=(--seed "$seed" --packets "$packets" --out "$cap" --truth "$truth")
  [[ $fmt == pcapng ]] && gen_args+=(--pcapng)
  "$build/bench/lastack-bench-gen" "${gen_args[@]}"
fi
npk=$(sed -n 's/^  "packets": \([0-9]*\),$/\1/p' "$truth")
size_mb=$(( $(stat -c %s "$cap") / 1000000 ))
cat "$cap" >/dev/null  # every tool starts from the page cache

# --- runs --------------------------------------------------------------------------------------
declare -A T M
run_tool() {  # name, command...; records median seconds and max peak RSS (MiB)
  local name=$1; shift
  local times=() rss=0 i tf status
  for ((i = 1; i <= runs; i++)); do
    tf=$(mktemp)
    rm -f "$dir/report.json" "$dir/report.db"
    set +e
    /usr/bin/time -v -o "$tf" timeout "$limit" "$@" >/dev/null 2>"$dir/$name.stderr"
    status=$?
    set -e
    # lastack exits 1 when it reports findings at or above --fail-on: that is a success here.
    if [[ $status == 124 ]]; then echo "$name: timed out after ${limit}s" >&2; rm -f "$tf"; return 0; fi
    if [[ $status != 0 ]] && ! [[ $name == lastack && $status == 1 ]]; then
      echo "$name: exit $status (see $dir/$name.stderr)" >&2; rm -f "$tf"; return 0
    fi
    local wall kb
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(j=1;j<=n;j++) s=s*60+p[j]; print s}' "$tf")
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
    rm -f "$tf"
    times+=("$wall")
    (( kb / 1024 > rss )) && rss=$(( kb / 1024 ))
    printf '  %-9s run %d: %6.2f s  %5d MiB\n' "$name" "$i" "$wall" $(( kb / 1024 ))
  done
  T[$name]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  M[$name]=$rss
}

echo "== $cap: $npk packets, $size_mb MB; $runs runs each, median"
run_tool lastack "$build/lastack" analyze "$cap" --json "$dir/report.json" --db "$dir/report.db" --quiet
cp -f "$dir/report.json" "$dir/lastack-report.json" 2>/dev/null || true
run_tool floor "$build/bench/lastack-bench-floor" "$cap"
want tshark && run_tool tshark tshark -n -r "$cap" -Y tcp.analysis.flags -T fields -e frame.number
want tcptrace && run_tool tcptrace tcptrace -l "$cap"

# --- table -------------------------------------------------------------------------------------
echo
printf '%-10s %10s %14s %12s\n' tool "median s" "packets/s" "peak RSS MiB"
for name in lastack floor tshark tcptrace; do
  [[ -n ${T[$name]:-} ]] || continue
  awk -v n="$name" -v t="${T[$name]}" -v p="$npk" -v m="${M[$name]}" \
    'BEGIN {printf "%-10s %10.3f %14.0f %12d\n", n, t, (t > 0 ? p / t : 0), m}'
done
echo
if [[ -n ${T[lastack]:-} ]]; then
  for other in tshark tcptrace floor; do
    [[ -n ${T[$other]:-} ]] || continue
    awk -v o="$other" -v a="${T[lastack]}" -v b="${T[$other]}" -v ma="${M[lastack]}" -v mb="${M[$other]}" \
      'BEGIN {printf "lastack vs %-8s  time %6.2fx %s   RSS %5.2fx\n", o, (a > b ? a / b : b / a),
              (a > b ? "slower" : "faster"), (mb > 0 ? ma / mb : 0)}'
  done
  echo
  "$build/bench/lastack-bench-check" --truth "$truth" --report "$dir/lastack-report.json" || true
fi

# --- fast path vs plain path -------------------------------------------------------------------
if [[ $plain_check == 1 && -s $dir/lastack-report.json ]]; then
  echo
  [[ -s $cap.zst ]] || zstd -q -1 -T2 -f "$cap" -o "$cap.zst"
  set +e
  "$build/lastack" analyze "$cap.zst" --json "$dir/report-zst.json" --quiet
  status=$?
  set -e
  if [[ $status -gt 1 ]]; then
    echo "plain path: lastack exit $status" >&2
  else
    python3 - "$dir/lastack-report.json" "$dir/report-zst.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    r.pop("inputs", None)
print("fast path (plain file) and plain path (zstd stream): reports",
      "IDENTICAL apart from inputs[]" if a == b else "DIFFER")
sys.exit(0 if a == b else 1)
PY
  fi
fi
