import "server-only";
import type { SessionClaims } from "@/lib/auth/session-token";
import { env } from "@/lib/env";
import { flash } from "@/lib/flash/instance";
import { channelOf, type DoorContext, type HttpReply, type RequestBody } from "@/lib/flash/http";
import { gate } from "@/lib/gate";
import { CLIENT_IP_HEADER } from "@/lib/http/front-door";

// Adapters for the Next.js route handlers; the hot server has its own for node:http.
export function readClaims(req: Request): Promise<SessionClaims | null> {
  return flash().sessions.read(req.headers.get("cookie"), req.headers.get("authorization"));
}

/** The gate's view of a route handler's request (the front door recorded the client address). */
export function doorContext(req: Request): DoorContext {
  return { gate: gate(), ip: req.headers.get(CLIENT_IP_HEADER), cookie: req.headers.get("cookie"), channel: channelOf(req.headers.get("authorization")) };
}

/** The same, for the gate's routes, which set the pass cookie (Secure when the site is https). */
export function gateDoor(req: Request) {
  return { ...doorContext(req), gate: gate(), secureCookies: env().NEXTAUTH_URL?.startsWith("https:") ?? false };
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
