{{/* Labels on every object; selectors use only name and component (as config/). */}}
{{- define "orchard.labels" -}}
app.kubernetes.io/name: orchard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{- end }}

{{- define "orchard.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end }}

{{/* "true" when the proxy runs more than one replica at some point. */}}
{{- define "orchard.proxy.clustered" -}}
{{- if or .Values.proxy.autoscaling.enabled (gt (int .Values.proxy.replicas) 1) -}}
true
{{- else -}}
false
{{- end -}}
{{- end }}

{{- define "orchard.proxy.url" -}}
http://orchard-proxy.{{ .Release.Namespace }}.svc:{{ .Values.proxy.service.port }}
{{- end }}

{{/* What containerd on the nodes dials; cluster DNS names do not resolve there. */}}
{{- define "orchard.mirror.url" -}}
{{- if .Values.containerd.mirrorUrl -}}
{{ .Values.containerd.mirrorUrl }}
{{- else if .Values.containerd.nodePort.enabled -}}
http://127.0.0.1:{{ .Values.containerd.nodePort.port }}
{{- else if .Values.proxy.hostPort -}}
http://127.0.0.1:{{ .Values.proxy.hostPort }}
{{- else -}}
{{ include "orchard.proxy.url" . }}
{{- end -}}
{{- end }}

{{/* Refuse values that would deploy something that cannot work. Renders nothing. */}}
{{- define "orchard.validate" -}}
{{- $p := .Values.proxy -}}
{{- if and (eq (include "orchard.proxy.clustered" .) "true") (not $p.envFromSecret) -}}
{{- if not $p.database.host -}}
{{- fail "proxy: more than one replica (or autoscaling) needs PostgreSQL: set proxy.database.host (or proxy.envFromSecret)" -}}
{{- end -}}
{{- if not (or $p.s3.endpoint $p.s3.bucket) -}}
{{- fail "proxy: more than one replica (or autoscaling) needs S3: set proxy.s3.bucket (or proxy.envFromSecret)" -}}
{{- end -}}
{{- if not (or $p.redis.url $p.redis.existingSecret) -}}
{{- fail "proxy: more than one replica (or autoscaling) needs Redis: set proxy.redis.url or proxy.redis.existingSecret (or proxy.envFromSecret)" -}}
{{- end -}}
{{- end -}}
{{- if and $p.persistence.enabled (eq (include "orchard.proxy.clustered" .) "true") -}}
{{- fail "proxy.persistence: a ReadWriteOnce volume cannot be shared by several replicas; clustered proxies keep their data in PostgreSQL and S3" -}}
{{- end -}}
{{- if contains "@" $p.redis.url -}}
{{- fail "proxy.redis.url must not hold credentials: put the URL in a Secret and set proxy.redis.existingSecret" -}}
{{- end -}}
{{- if and .Values.containerd.hostsSync.enabled (eq (include "orchard.mirror.url" .) (include "orchard.proxy.url" .)) -}}
{{- fail "containerd.hostsSync: containerd on the nodes cannot resolve cluster DNS; enable containerd.nodePort or set containerd.mirrorUrl (or proxy.hostPort)" -}}
{{- end -}}
{{- end }}

{{/* ORCHARD_DATABASE_*, ORCHARD_S3_*, ORCHARD_REDIS_URL; secrets only by reference. */}}
{{- define "orchard.proxy.backendEnv" -}}
{{- $db := .Values.proxy.database -}}
{{- $s3 := .Values.proxy.s3 -}}
{{- $redis := .Values.proxy.redis -}}
{{- if $db.host }}
- name: ORCHARD_DATABASE_HOST
  value: {{ $db.host | quote }}
- name: ORCHARD_DATABASE_PORT
  value: {{ int $db.port | quote }}
- name: ORCHARD_DATABASE_USER
  value: {{ $db.user | quote }}
- name: ORCHARD_DATABASE_DBNAME
  value: {{ $db.dbname | quote }}
- name: ORCHARD_DATABASE_SSL
  value: {{ $db.ssl | quote }}
{{- with $db.existingSecret }}
- name: ORCHARD_DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $db.passwordKey }}
{{- end }}
{{- end }}
{{- if or $s3.endpoint $s3.bucket }}
{{- with $s3.endpoint }}
- name: ORCHARD_S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: ORCHARD_S3_REGION
  value: {{ $s3.region | quote }}
- name: ORCHARD_S3_BUCKET
  value: {{ required "proxy.s3.bucket is required with proxy.s3.endpoint" $s3.bucket | quote }}
- name: ORCHARD_S3_FORCE_PATH_STYLE
  value: {{ $s3.forcePathStyle | quote }}
{{- with $s3.existingSecret }}
- name: ORCHARD_S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $s3.accessKeyIdKey }}
- name: ORCHARD_S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $s3.secretAccessKeyKey }}
{{- end }}
{{- end }}
{{- if $redis.existingSecret }}
- name: ORCHARD_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $redis.existingSecret }}
      key: {{ $redis.urlKey }}
{{- else if $redis.url }}
- name: ORCHARD_REDIS_URL
  value: {{ $redis.url | quote }}
{{- end }}
{{- end }}
