#!/usr/bin/env bash
# make test-helm: helm lint and helm template of deploy/helm/switchyard with
# its default values and with ci/full-values.yaml (every option on), the
# render checks of deploy/helm (Go test: probes, drain budget, security
# context, and the rendered config passing the gateway's validation), and
# that deploy/manifests/switchyard.yaml is the current render.
set -euo pipefail
cd "$(dirname "$0")/.."
helm="$(scripts/install-helm.sh)"
chart=deploy/helm/switchyard

"$helm" lint --strict "$chart"
"$helm" lint --strict "$chart" -f "$chart/ci/full-values.yaml"
"$helm" template switchyard "$chart" > /dev/null
"$helm" template switchyard "$chart" -f "$chart/ci/full-values.yaml" > /dev/null
# A ServiceMonitor without a token to scrape with is refused at render time.
if "$helm" template switchyard "$chart" --set metrics.serviceMonitor.enabled=true > /dev/null 2>&1; then
  echo "test-helm: a ServiceMonitor without secrets.metricsToken rendered" >&2
  exit 1
fi
SWITCHYARD_HELM="$helm" go test -count=1 ./deploy/helm/...
if ! diff -u deploy/manifests/switchyard.yaml <(scripts/manifests.sh --stdout); then
  echo "test-helm: deploy/manifests/switchyard.yaml is out of date with the chart: run 'make manifests' and commit it" >&2
  exit 1
fi
echo "test-helm: lint, template, render checks and manifests passed"
