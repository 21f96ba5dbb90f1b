import "server-only";
import type { SessionClaims } from "@/lib/auth/session-token";
import { flash } from "@/lib/flash/instance";
import type { HttpReply, RequestBody } from "@/lib/flash/http";

// Adapters for the Next.js route handlers; the hot server has its own for node:http.
export function readClaims(req: Request): Promise<SessionClaims | null> {
  return flash().sessions.read(req.headers.get("cookie"), req.headers.get("authorization"));
}

/** The request's body as a byte stream, read only as far as its spec allows (lib/flash/http.ts readJson). */
export function bodyOf(req: Request): RequestBody {
  return { contentLength: req.headers.get("content-length"), chunks: req.body && chunksOf(req.body) };
}

// TypeScript's DOM types lack ReadableStream's async iterator (Safari too), so read it by hand; return() cancels it.
async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel();
  }
}

export function toResponse(reply: HttpReply): Response {
  return Response.json(reply.body, { status: reply.status, headers: reply.headers });
}
