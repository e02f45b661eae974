#!/usr/bin/env bash
# buf breaking against the last landed main. On a branch that is origin/main;
# on main itself (CI's fresh clone) it is the previous commit. Override with
# BUF_BREAKING_AGAINST (any buf input, e.g. '.git#ref=v1.0.0').
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=tools/node_modules/.bin/buf
against=${BUF_BREAKING_AGAINST:-}
if [[ -z $against ]]; then
  head=$(git rev-parse HEAD 2>/dev/null || true)
  if base=$(git rev-parse -q --verify origin/main 2>/dev/null) && [[ $base != "$head" ]]; then
    against=".git#ref=$base"
  elif base=$(git rev-parse -q --verify HEAD~1 2>/dev/null) && git cat-file -e "$base:buf.yaml" 2>/dev/null; then
    against=".git#ref=$base"
  else
    echo "buf breaking: no earlier contract to compare with; skipped" >&2
    exit 0
  fi
fi
echo "buf breaking --against $against" >&2
"$BUF" breaking --against "$against"
