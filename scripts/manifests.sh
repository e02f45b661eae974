#!/usr/bin/env bash
# make manifests: renders the Helm chart with its default values into
# deploy/manifests/switchyard.yaml, plain manifests for users without Helm.
# scripts/test-helm.sh fails when the committed file is not this render.
#
#   scripts/manifests.sh           # write deploy/manifests/switchyard.yaml
#   scripts/manifests.sh --stdout  # print the render
set -euo pipefail
cd "$(dirname "$0")/.."
helm="$(scripts/install-helm.sh)"
render() {
  cat <<'HEADER'
# Switchyard as plain Kubernetes manifests: deploy/helm/switchyard rendered
# with its default values (make manifests; do not edit by hand). Edit the
# Secret and the ConfigMap, then: kubectl apply -n NAMESPACE -f switchyard.yaml
# See deploy/README.md.
HEADER
  "$helm" template switchyard deploy/helm/switchyard
}
if [[ "${1:-}" == "--stdout" ]]; then
  render
else
  mkdir -p deploy/manifests
  render > deploy/manifests/switchyard.yaml
  echo "wrote deploy/manifests/switchyard.yaml" >&2
fi
