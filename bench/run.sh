#!/usr/bin/env bash
# Runs every Google Benchmark program built in BUILD_DIR/bench, then, if asked, bench/compare.
#
#   bench/run.sh BUILD_DIR [--filter REGEX] [--min-time SECONDS] [--compare [COMPARE ARGS...]]
#
# `make bench` calls `bench/run.sh build`. Each program prints its table and writes JSON to
# BUILD_DIR/bench-results/NAME.json (Google Benchmark's --benchmark_out). --compare (or
# BENCH_COMPARE=1 in the environment) then runs `bench/compare --build BUILD_DIR` with the
# arguments that follow it, e.g. `bench/run.sh build --compare --quick`.
# Exit status: non-zero if any program or the comparison failed.
set -uo pipefail

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }

[ $# -ge 1 ] || usage
build=$1
shift
filter=""
min_time=""
compare=${BENCH_COMPARE:-0}
compare_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --filter) [ $# -ge 2 ] || usage; filter=$2; shift 2 ;;
    --min-time) [ $# -ge 2 ] || usage; min_time=$2; shift 2 ;;
    --compare) compare=1; shift; compare_args=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$build" ]; then
  echo "run.sh: no build folder $build (run: make build)" >&2
  exit 2
fi
results="$build/bench-results"
mkdir -p "$results"

# A Google Benchmark program links libbenchmark (shared: its name is in the dynamic section;
# static: the library's flag names are in the binary). Other programs in bench/ (such as
# agent_e2e_bench, which takes its own flags) are not run: probing them could start them.
programs=()
if [ -d "$build/bench" ]; then
  while IFS= read -r f; do
    if grep -qaE 'libbenchmark\.so|benchmark_list_tests' "$f"; then
      programs+=("$f")
    fi
  done < <(find "$build/bench" -maxdepth 2 -type f -perm -u+x ! -name '*.so*' ! -path '*/CMakeFiles/*' | sort)
fi

failed=()
if [ ${#programs[@]} -eq 0 ]; then
  echo "run.sh: no Google Benchmark programs in $build/bench (configured with" \
       "-DBLACKBOX_BUILD_BENCH=ON and built?)" >&2
else
  for p in "${programs[@]}"; do
    name=$(basename "$p")
    echo "=== $name" >&2
    args=(--benchmark_out="$results/$name.json" --benchmark_out_format=json)
    [ -n "$filter" ] && args+=(--benchmark_filter="$filter")
    [ -n "$min_time" ] && args+=(--benchmark_min_time="$min_time")
    if ! "$p" "${args[@]}"; then
      echo "run.sh: $name failed" >&2
      failed+=("$name")
    fi
  done
  echo "run.sh: ${#programs[@]} programs, JSON in $results" >&2
fi

if [ "$compare" = 1 ]; then
  echo "=== bench/compare" >&2
  "$here/compare" --build "$build" "${compare_args[@]}" || failed+=("compare")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: failed: ${failed[*]}" >&2
  exit 1
fi
