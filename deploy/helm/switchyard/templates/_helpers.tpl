{{- define "switchyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "switchyard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "switchyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "switchyard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "switchyard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "switchyard.secretName" -}}
{{- default (include "switchyard.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
The gateway's config: .Values.config with what the chart owns set on top
(listen, the drain deadline, the data dir, and the shared-state URLs as
${NAME} references to the Secret).
*/}}
{{- define "switchyard.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $_ := set $cfg "listen" (printf "0.0.0.0:%d" (int .Values.service.port)) }}
{{- $server := deepCopy (default dict $cfg.server) }}
{{- $_ = set $server "shutdown_timeout" (printf "%ds" (int .Values.drain.shutdownTimeoutSeconds)) }}
{{- if or .Values.secrets.metricsToken .Values.metrics.serviceMonitor.enabled }}
{{- $_ = set $server "metrics_token" "${SWITCHYARD_METRICS_TOKEN}" }}
{{- end }}
{{- $_ = set $cfg "server" $server }}
{{- $storage := deepCopy (default dict $cfg.storage) }}
{{- $_ = set $storage "data_dir" "/var/lib/switchyard/data" }}
{{- if .Values.storage.postgres.enabled }}
{{- $_ = set $storage "postgres_url" "${SWITCHYARD_POSTGRES_URL}" }}
{{- end }}
{{- if .Values.storage.redis.enabled }}
{{- $_ = set $storage "redis_url" "${SWITCHYARD_REDIS_URL}" }}
{{- end }}
{{- $_ = set $cfg "storage" $storage }}
{{- if .Values.cache.redis.enabled }}
{{- $cache := deepCopy (default dict (index $cfg "cache")) }}
{{- $_ = set $cache "redis_url" "${SWITCHYARD_REDIS_URL}" }}
{{- $_ = set $cfg "cache" $cache }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{- define "switchyard.gracePeriod" -}}
{{- add .Values.drain.preStopSleepSeconds .Values.drain.shutdownTimeoutSeconds .Values.drain.exitSeconds }}
{{- end }}
