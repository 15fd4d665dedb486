#!/usr/bin/env bash
# Regenerate Sources/ONNXProto from schemas/onnx.proto with protoc-c.
#   scripts/gen-proto.sh          write the generated files in place
#   scripts/gen-proto.sh --check  fail (exit 1) when the committed files are stale
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v protoc-c >/dev/null || { echo "protoc-c not found: apt-get install -y protobuf-c-compiler" >&2; exit 2; }
protoc-c --c_out="$tmp" -I"$root/schemas" "$root/schemas/onnx.proto"
banner='/* Kappa: generated from schemas/onnx.proto by scripts/gen-proto.sh (`make proto`). DO NOT EDIT. */'
{ echo "$banner"; cat "$tmp/onnx.pb-c.h"; } > "$tmp/h"
{ echo "$banner"; sed 's|#include "onnx.pb-c.h"|#include "include/onnx.pb-c.h"|' "$tmp/onnx.pb-c.c"; } > "$tmp/c"
out="$root/Sources/ONNXProto"
if [ "${1:-}" = "--check" ]; then
  if cmp -s "$tmp/h" "$out/include/onnx.pb-c.h" && cmp -s "$tmp/c" "$out/onnx.pb-c.c"; then
    echo "generated protobuf-c code is up to date"
  else
    echo "Sources/ONNXProto is stale: run 'make proto' and commit the result" >&2
    exit 1
  fi
else
  mkdir -p "$out/include"
  cp "$tmp/h" "$out/include/onnx.pb-c.h"
  cp "$tmp/c" "$out/onnx.pb-c.c"
  echo "wrote $out/include/onnx.pb-c.h and $out/onnx.pb-c.c"
fi
