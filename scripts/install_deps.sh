#!/usr/bin/env bash
# Installs the Debian 12 packages kerasrt needs to build and test (run as root or with sudo).
# Does nothing when they are all present, so it is cheap to call before every build.
set -euo pipefail
packages=(build-essential cmake g++ libgtest-dev nlohmann-json3-dev zlib1g-dev
          libpng-dev libjpeg-dev pkg-config libdnnl-dev
          # the Python module (python/): binding, headers, its tests and the offline pip install
          pybind11-dev python3-dev python3-numpy python3-pytest python3-venv python3-pip
          python3-setuptools python3-wheel
          # `kerasrt serve` (tools/serve/): gRPC and protobuf, the HTTP library; its tests'
          # clients (requests, grpcio stubs from our .proto), the load generator, the YAML lint
          libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libcpp-httplib-dev
          python3-requests python3-grpcio python3-protobuf wrk yamllint)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
