// Next.js's cache handler (next.config.ts `cacheHandler`): @fortedigital/nextjs-cache-handler with
// its Redis handler at run time (lib/next-cache.ts: ISR pages and revalidatePath shared by every web
// instance), its in-memory LRU handler during `next build` and `next dev`.
// Plain JavaScript because Next.js imports this file itself, also in the build's workers, where no
// TypeScript loader runs. At run time the web server (scripts/server.ts, bundled to plain JavaScript
// by scripts/build-server.mjs) hands over the Redis part on a global before Next.js starts; under
// the tsx loader (tests, scripts) it is imported from source. The build never connects to Redis: an
// unreachable one cannot stall it.
import { CacheHandler } from "@fortedigital/nextjs-cache-handler";
import createLruHandler from "@fortedigital/nextjs-cache-handler/local-lru";
import { PHASE_PRODUCTION_BUILD } from "next/constants.js";

CacheHandler.onCreation(async ({ buildId, dev }) => {
  if (dev || process.env.NEXT_PHASE === PHASE_PRODUCTION_BUILD) return { handlers: [createLruHandler()] };
  try {
    // lib/next-cache.ts NEXT_CACHE_FACTORY, set by scripts/server.ts; else the source, for the tsx loader
    // (not for the bundler to follow: not part of the build).
    const redisCacheHandler =
      globalThis[Symbol.for("flash-sale.redisCacheHandler")] ??
      (await import(/* turbopackIgnore: true */ /* webpackIgnore: true */ "./next-cache.ts")).redisCacheHandler;
    return { handlers: [await redisCacheHandler(buildId)] };
  } catch (e) {
    // e.g. a bare `next start`: the per-process cache, as before this handler.
    console.warn(`[next-cache] shared cache unavailable, using this process's memory: ${e instanceof Error ? e.message : e}`);
    return { handlers: [createLruHandler()] };
  }
});

export default CacheHandler;
