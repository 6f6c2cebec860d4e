/**
 * The Kubernetes executor (RUNNER_EXECUTOR=kubernetes, docs/kubernetes.md): one pod per task, made, watched,
 * classified, read and deleted through the API server only (no exec, no attach, no volume claims).
 */
package dev.aireview.runner.kubernetes;
