#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, -fsanitize=fuzzer + AddressSanitizer +
# UndefinedBehaviorSanitizer, and runs each target for DURATION seconds (default 60) from its
# committed seed corpus in fuzz/corpus/<target>/. New corpus entries go to the build directory,
# never into the repository. Exits non-zero when a target finds a crash, leak or timeout; the
# reproducer is printed (turn it into a fixture: tests/support/hostile.h, then fix).
#
#   bash fuzz/run.sh [DURATION] [TARGET...]       # TARGET: capture_decode, pipeline
#   LASTACK_FUZZ_BUILD=/tmp/dir bash fuzz/run.sh 1800   # build directory (default build-fuzz)
#   LASTACK_FUZZ_JOBS=1                                 # parallel build jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(capture_decode pipeline)
build="${LASTACK_FUZZ_BUILD:-build-fuzz}"

# clang and its libFuzzer runtime (Debian 12: packages clang, libclang-rt-dev).
if ! command -v clang++ >/dev/null ||
   ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "fuzz: installing clang libclang-rt-dev" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      clang libclang-rt-dev >/dev/null
  else
    echo "fuzz: needs clang++ with libFuzzer (Debian: apt-get install clang libclang-rt-dev)" >&2
    exit 2
  fi
fi

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLASTACK_FUZZ=ON -DLASTACK_SANITIZE=ON -DLASTACK_BUILD_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
cmake --build "$build" -j "${LASTACK_FUZZ_JOBS:-2}" --target "${targets[@]/%/_fuzz}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
status=0
for t in "${targets[@]}"; do
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
  echo "== fuzz $t for ${duration}s"
  # TMPDIR: the pipeline target's scratch input file.
  if ! TMPDIR="$work/tmp" "$build/fuzz/${t}_fuzz" "$work/corpus" "fuzz/corpus/$t" \
      -max_total_time="$duration" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/" >"$work/log" 2>&1; then
    status=1
    tail -n 60 "$work/log"
    echo "fuzz $t FAILED; reproducer(s):" "$work"/artifacts/*
  else
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added)' "$work/log" || true
  fi
done
exit "$status"
