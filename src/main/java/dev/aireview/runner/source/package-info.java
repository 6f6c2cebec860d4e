/**
 * The trusted source step: the runner's own repository cache ({@link dev.aireview.runner.source.RepoCache}), fetched
 * by git on the runner's host with a hardened configuration ({@link dev.aireview.runner.source.HostGit}) and each
 * task's own credentials, and the checkout a review container makes from it read-only, without network or token
 * ({@link dev.aireview.runner.source.CachedCheckout}). See docs/repository-cache.md.
 */
package dev.aireview.runner.source;
