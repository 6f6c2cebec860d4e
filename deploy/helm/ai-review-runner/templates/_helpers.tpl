{{- define "air.name" -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- define "air.tasksNamespace" -}}{{ default .Release.Namespace .Values.tasks.namespace }}{{- end -}}
{{- define "air.labels" -}}
app.kubernetes.io/name: ai-review-runner
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "air.selector" -}}
app.kubernetes.io/name: ai-review-runner
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
