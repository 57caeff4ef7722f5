{{/* Names, labels and the checks every install must pass. */}}

{{- define "customer-portal.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "customer-portal.fullname" -}}
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

{{- define "customer-portal.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* selectorLabels never change after the first install: a Deployment's selector is immutable. */}}
{{- define "customer-portal.selectorLabels" -}}
app.kubernetes.io/name: {{ include "customer-portal.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "customer-portal.labels" -}}
helm.sh/chart: {{ include "customer-portal.chart" . }}
{{ include "customer-portal.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: customer-portal
{{- end }}

{{- define "customer-portal.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "customer-portal.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "customer-portal.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* publicURL is PORTAL_PUBLIC_URL: the explicit value, else the ingress host. */}}
{{- define "customer-portal.publicURL" -}}
{{- if .Values.portal.publicURL }}
{{- .Values.portal.publicURL | trimSuffix "/" }}
{{- else if .Values.ingress.enabled }}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host }}
{{- end }}
{{- end }}

{{/* urlPort is the TCP port an http(s) URL connects to: the explicit one, else the scheme's. */}}
{{- define "customer-portal.urlPort" -}}
{{- $u := urlParse . }}
{{- $explicit := regexFind ":[0-9]+$" $u.host }}
{{- if $explicit }}{{ trimPrefix ":" $explicit }}{{ else if eq $u.scheme "https" }}443{{ else }}80{{ end }}
{{- end }}

{{/* multiReplica: more than one pod can run at once. */}}
{{- define "customer-portal.multiReplica" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/*
validate stops the install with a message naming the value to set, for configurations that
would start but lose or split data.
*/}}
{{- define "customer-portal.validate" -}}
{{- $what := ternary "autoscaling.enabled" (printf "replicaCount=%d" (int .Values.replicaCount)) .Values.autoscaling.enabled }}
{{- if include "customer-portal.multiReplica" . }}
{{- if not .Values.database.existingSecret }}
{{- fail (printf "customer-portal: %s needs PostgreSQL: set database.existingSecret to a Secret holding the PostgreSQL URL (key database.key). Without it each pod would use its own SQLite file in /data, which cannot be shared." $what) }}
{{- end }}
{{- if not .Values.secretKey.existingSecret }}
{{- fail (printf "customer-portal: %s needs one secret key for all pods: set secretKey.existingSecret to a Secret holding PORTAL_SECRET_KEY (openssl rand -base64 32). Without it each pod would generate its own and could not read what another stored." $what) }}
{{- end }}
{{- if not .Values.oidc.issuerURL }}
{{- fail (printf "customer-portal: %s needs Keycloak: set oidc.issuerURL. The built-in identity provider keeps its signing key in one pod's /data, so another pod would refuse its tokens." $what) }}
{{- end }}
{{- if .Values.persistence.existingClaim }}
{{- fail (printf "customer-portal: %s cannot share persistence.existingClaim; leave it empty with PostgreSQL." $what) }}
{{- end }}
{{- end }}
{{- if and .Values.oidc.adminClientID (not .Values.oidc.adminClientSecret.existingSecret) }}
{{- fail "customer-portal: oidc.adminClientID is set: set oidc.adminClientSecret.existingSecret to the Secret holding its client secret." }}
{{- end }}
{{- if and (or .Values.oidc.internalURL .Values.oidc.adminClientID) (not .Values.oidc.issuerURL) }}
{{- fail "customer-portal: oidc.internalURL and oidc.adminClientID apply to Keycloak only: set oidc.issuerURL too." }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) }}
{{- fail "customer-portal: ingress.enabled needs ingress.host, the portal's public host name." }}
{{- end }}
{{- if and .Values.smtp.host (not .Values.smtp.from) }}
{{- fail "customer-portal: smtp.host needs smtp.from, the sender address." }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (add .Values.portal.shutdownDelaySeconds .Values.portal.shutdownTimeoutSeconds | int) }}
{{- fail (printf "customer-portal: terminationGracePeriodSeconds (%d) must exceed portal.shutdownDelaySeconds + portal.shutdownTimeoutSeconds (%d), or Kubernetes kills pods while they drain." (int .Values.terminationGracePeriodSeconds) (add .Values.portal.shutdownDelaySeconds .Values.portal.shutdownTimeoutSeconds | int)) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "customer-portal: autoscaling.minReplicas must not exceed autoscaling.maxReplicas." }}
{{- end }}
{{- end }}

{{/* secretEnv is one env entry read from an existing Secret. */}}
{{- define "customer-portal.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret.existingSecret }}
      key: {{ .secret.key }}
{{- end }}
