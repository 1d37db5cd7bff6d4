#!/usr/bin/env bash
# Copies buf/validate/validate.proto from the Go module cache into third_party/,
# because the Buf Schema Registry (buf.yaml deps) is not reachable offline.
# The version matches the descriptor compiled into buf.build/go/protovalidate.
set -euo pipefail
version=v1.2.2
dir=$(go mod download -json "github.com/bufbuild/protovalidate@${version}" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
dest=third_party/protovalidate/buf/validate
mkdir -p "$dest"
install -m 644 "$dir/proto/protovalidate/buf/validate/validate.proto" "$dest/validate.proto"
