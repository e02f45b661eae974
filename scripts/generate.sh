#!/usr/bin/env bash
# Regenerates gen/ from proto/ with pinned local plugins (no network plugins).
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=tools/node_modules/.bin/buf
[[ -x $BUF ]] || scripts/install-tools.sh

rm -rf gen/go gen/ts gen/openapi gen/python
"$BUF" generate

# Python: grpcio-tools bundles protoc and the gRPC plugin. google/api comes
# from googleapis-common-protos at run time, so only our protos are generated.
mkdir -p gen/python
mapfile -t protos < <(cd proto && find switchyard -name '*.proto' | LC_ALL=C sort)
(cd proto && ../.venv/bin/python -m grpc_tools.protoc -I. -I../third_party/googleapis \
  --python_out=../gen/python --pyi_out=../gen/python --grpc_python_out=../gen/python "${protos[@]}")

# The Python SDK ships the same stubs inside its package (switchyard.v1, the
# import path the generated code uses). Only generated files are replaced;
# the package's hand-written __init__.py stays.
SDK_PY=sdk/python/src/switchyard/v1
mkdir -p "$SDK_PY"
find "$SDK_PY" -maxdepth 1 -name '*_pb2*.py*' -delete
cp gen/python/switchyard/v1/*_pb2*.py* "$SDK_PY"/
echo "gen/ and $SDK_PY regenerated" >&2
