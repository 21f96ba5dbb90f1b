// Long-running processes (hot server, worker, scripts) are server code by definition: let the
// `server-only` guard, which only Next's bundler knows how to resolve, load as an empty module.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === "server-only") return { url: "data:text/javascript,", shortCircuit: true };
  return nextResolve(specifier, context);
}
