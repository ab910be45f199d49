#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan+UBSan, -DBLACKBOX_FUZZ=ON) in
# their own build directory and runs each for a bounded time on a copy of its seed corpus
# (the committed seeds stay as they are). Any finding — crash, failed check, undefined
# behaviour, leak, out-of-memory, an input slower than 10 s — fails the run; the input is
# kept in <build>/fuzz-findings/<target>/ and printed with the target's log.
#
# Usage: tools/fuzz.sh [BUILD_DIR]      (default build-fuzz; `make fuzz` calls this)
# Env:   FUZZ_SECONDS   seconds per target (default 20)
#        FUZZ_JOBS      targets run at once, and build jobs (default: number of CPUs)
#        FUZZ_TARGETS   space-separated subset (default: every *_fuzz target)
#        FUZZ_SEED      libFuzzer's -seed (default: random)
#        FUZZ_RUNS      run each target for this many inputs instead of FUZZ_SECONDS. With
#                       FUZZ_SEED too the run is repeatable (CI: the same inputs as here, on any
#                       machine speed); run without both to explore further.
# Needs clang and libFuzzer (Debian: clang libclang-rt-14-dev; tools/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-20}
if [ -n "${FUZZ_RUNS:-}" ]; then
  LIMIT="-runs=$FUZZ_RUNS" BOUND="$FUZZ_RUNS inputs"
else
  LIMIT="-max_total_time=$SECONDS_EACH" BOUND="${SECONDS_EACH} s"
fi
JOBS=${FUZZ_JOBS:-$(nproc)}
TARGETS=${FUZZ_TARGETS:-"frame_fuzz batch_fuzz body_fuzz spool_segment_fuzz checkpoint_fuzz
  json_line_fuzz config_fuzz http_query_fuzz"}

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe/probe.cc"
if ! command -v clang++ >/dev/null ||
  ! clang++ -fsanitize=fuzzer "$probe/probe.cc" -o "$probe/probe" 2>"$probe/err"; then
  echo "fuzz: clang++ with libFuzzer is not available; install it with tools/install-deps.sh" \
    "(Debian packages clang and libclang-rt-14-dev)" >&2
  cat "$probe/err" >&2 2>/dev/null || true
  exit 2
fi

start=$(date +%s)
# -O1 with line tables, as libFuzzer builds usually are (cheaper than the default -O2 -g under
# ASan), and assertions stay on (no NDEBUG).
CXX=clang++ cmake -S . -B "$BUILD" -DBLACKBOX_FUZZ=ON -DBLACKBOX_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  >/dev/null
# shellcheck disable=SC2086  # TARGETS is a list
cmake --build "$BUILD" -j "$JOBS" --target $TARGETS
echo "fuzz: built in $(($(date +%s) - start)) s; running each target for ${BOUND}," \
  "${JOBS} at a time"

work="$BUILD/fuzz-run"
rm -rf "$work" "$BUILD/fuzz-findings"
mkdir -p "$work"
run_one() {
  local target=$1 name=${1%_fuzz}
  local corpus="$work/corpus/$name" findings="$BUILD/fuzz-findings/$name/"
  mkdir -p "$corpus" "$findings"
  cp tests/fuzz/corpus/"$name"/* "$corpus"/
  if [ "$name" = config ]; then
    cp agent/blackbox-agent.toml collector/blackbox-collector.toml "$corpus"/
  fi
  if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 TMPDIR="$work" \
    "$BUILD/tests/fuzz/$target" $LIMIT -timeout=10 ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings" "$corpus" \
    >"$work/$name.log" 2>&1; then
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
    cov=$(grep -o 'cov: [0-9]*' "$work/$name.log" | tail -1)
    echo "fuzz: $target: ok, ${runs:-?} runs, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz: $target: FAILED — input kept in $findings; log:" >&2
    tail -60 "$work/$name.log" >&2
    return 1
  fi
}
export -f run_one
export BUILD LIMIT work
# shellcheck disable=SC2086
if ! printf '%s\n' $TARGETS | xargs -P "$JOBS" -I{} bash -c 'run_one {}'; then
  echo "fuzz: FAILED (a finding is a bug: fix it, then keep the input in" \
    "tests/fuzz/corpus/<target>/regress_<what>)" >&2
  exit 1
fi
echo "fuzz: every target ran ${BOUND} without a finding" \
  "($(($(date +%s) - start)) s in all)"
