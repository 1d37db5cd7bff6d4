#!/usr/bin/env bash
# Fails when the schema breaks compatibility with the previous commit's
# (FILE rules). The previous schema is compiled from `git archive`, with the
# same third_party/ protovalidate copy, since that copy is not committed.
set -euo pipefail
ref=${1:-HEAD~1}
if ! git rev-parse --verify --quiet "$ref^{commit}" >/dev/null || ! git cat-file -e "$ref:api" 2>/dev/null; then
  echo "buf breaking: $ref has no schema yet; nothing to compare"
  exit 0
fi
prev=$(mktemp -d)
trap 'rm -rf "$prev"' EXIT
git archive "$ref" api buf.yaml | tar -x -C "$prev"
cp -r third_party "$prev/"
buf=(go tool -modfile=tools.mod buf)
"${buf[@]}" build "$prev" -o "$prev/image.binpb"
echo "buf breaking against $ref ($(git rev-parse --short "$ref"))"
"${buf[@]}" breaking --against "$prev/image.binpb"
