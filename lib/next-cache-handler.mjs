// Next.js's cache handler (next.config.ts `cacheHandler`): @fortedigital/nextjs-cache-handler with
// its Redis handler at run time (lib/next-cache.ts: ISR pages and revalidatePath shared by every web
// instance), its in-memory LRU handler during `next build` and `next dev`.
// Plain JavaScript because Next.js imports this file itself, also in the build's workers, where no
// TypeScript loader runs; the web server (scripts/server.ts) runs under tsx, so at run time it can
// load the TypeScript part. The build never connects to Redis: an unreachable one cannot stall it.
import { CacheHandler } from "@fortedigital/nextjs-cache-handler";
import createLruHandler from "@fortedigital/nextjs-cache-handler/local-lru";
import { PHASE_PRODUCTION_BUILD } from "next/constants.js";

CacheHandler.onCreation(async ({ buildId, dev }) => {
  if (dev || process.env.NEXT_PHASE === PHASE_PRODUCTION_BUILD) return { handlers: [createLruHandler()] };
  try {
    // Not for the bundler to follow: a file for the tsx loader at run time, not part of the build.
    const { redisCacheHandler } = await import(/* turbopackIgnore: true */ /* webpackIgnore: true */ "./next-cache.ts");
    return { handlers: [await redisCacheHandler(buildId)] };
  } catch (e) {
    // e.g. `next start` without the tsx loader: the per-process cache, as before this handler.
    console.warn(`[next-cache] shared cache unavailable, using this process's memory: ${e instanceof Error ? e.message : e}`);
    return { handlers: [createLruHandler()] };
  }
});

export default CacheHandler;
