import "server-only";
import type { SessionClaims } from "@/lib/auth/session-token";
import { flash } from "@/lib/flash/instance";
import type { HttpReply } from "@/lib/flash/http";

// Adapters for the Next.js route handlers; the hot server has its own for node:http.
export function readClaims(req: Request): Promise<SessionClaims | null> {
  return flash().sessions.read(req.headers.get("cookie"), req.headers.get("authorization"));
}

export function toResponse(reply: HttpReply): Response {
  return Response.json(reply.body, { status: reply.status, headers: reply.headers });
}
