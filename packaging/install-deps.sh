#!/usr/bin/env bash
# Installs every Debian package that llmtap's build, tests, benchmarks and demo
# use. Idempotent: installs only what is missing, so it is cheap to run again.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  librdkafka-dev liblmdb-dev lmdb-utils libzstd-dev zstd libmicrohttpd-dev
  libcjson-dev libunwind-dev libcurl4-openssl-dev libyaml-dev libpcre2-dev
  libcmocka-dev
  libprotobuf-c-dev protobuf-c-compiler       # OTLP/protobuf intake (agent/otlp.proto)
  zlib1g-dev                                  # gzip OTLP bodies (agent/otlp_gzip.c)
  clang libclang-rt-14-dev                    # libFuzzer
  clang-format                                # the style check (style.clang_format) and make format
  python3 python3-venv curl prometheus
  openssl                                     # it.auth_tls makes its certificate
  default-jdk-headless maven                  # the real Apache Kafka broker for tests
  wrk nginx                                   # make bench-proxy (runs its own nginx)
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
# Debian's nginx package enables and starts a system web server on port 80.
# Nothing here uses it (bench-proxy runs its own nginx on a free port from a
# temporary prefix), so when this script installed it, stop and disable it.
# Harmless without systemd (containers).
# The same for the prometheus package's server (port 9090): the tests use
# its promtool and start their own servers when they need one.
for svc in nginx prometheus; do
  if [[ " ${missing[*]} " == *" $svc "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now "$svc" 2>/dev/null || true
  fi
done
