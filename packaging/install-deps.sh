#!/usr/bin/env bash
# Installs every Debian package that llmtap's build, tests, benchmarks and demo
# use. Idempotent: installs only what is missing, so it is cheap to run again.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  librdkafka-dev liblmdb-dev lmdb-utils libzstd-dev zstd libmicrohttpd-dev
  libcjson-dev libunwind-dev libcurl4-openssl-dev libyaml-dev libpcre2-dev
  libcmocka-dev
  clang libclang-rt-14-dev                    # libFuzzer
  python3 curl
  default-jdk-headless maven                  # the real Apache Kafka broker for tests
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
