#!/usr/bin/env bash
# Installs the Debian 12 packages Blackbox needs to build, test, benchmark and demo.
# Idempotent: when every package is already installed it returns in well under a second.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ make cmake pkg-config git ca-certificates
  # libraries (see README "Dependencies" for why each one)
  libboost1.81-dev libzstd-dev librocksdb-dev libsimdjson-dev librdkafka-dev libssl-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libre2-dev
  libhowardhinnant-date-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzing (make fuzz, .ci/run): clang and its libFuzzer/ASan/UBSan runtimes
  clang libclang-rt-14-dev
  # tools used by tests, benchmarks and the demo
  zstd kcat procps python3 iproute2 ripgrep
  # the real logrotate for the rotation storm tests (tests/agent/rotation_storm_test.cc)
  logrotate
  # the openssl command: tests make their CA and certificates at run time
  # (tests/support/test_pki.cc, tests/integration/api_auth_e2e_test.cc)
  openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# libboost1.81-dev conflicts with the default 1.74 headers; remove them if present.
if dpkg-query -W -f='${Status}' libboost1.74-dev 2>/dev/null | grep -q 'install ok installed'; then
  apt-get remove -y -qq libboost1.74-dev libboost-dev >/dev/null || true
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
