import "server-only";
import type { SessionClaims } from "@/lib/auth/session-token";
import { env } from "@/lib/env";
import { flash } from "@/lib/flash/instance";
import type { DoorContext, HttpReply } from "@/lib/flash/http";
import { gate } from "@/lib/gate";
import { CLIENT_IP_HEADER } from "@/lib/http/front-door";

// Adapters for the Next.js route handlers; the hot server has its own for node:http.
export function readClaims(req: Request): Promise<SessionClaims | null> {
  return flash().sessions.read(req.headers.get("cookie"), req.headers.get("authorization"));
}

/** The gate's view of a route handler's request (the front door recorded the client address). */
export function doorContext(req: Request): DoorContext {
  return { gate: gate(), ip: req.headers.get(CLIENT_IP_HEADER), cookie: req.headers.get("cookie") };
}

/** The same, for the gate's routes, which set the pass cookie (Secure when the site is https). */
export function gateDoor(req: Request) {
  return { ...doorContext(req), gate: gate(), secureCookies: env().NEXTAUTH_URL?.startsWith("https:") ?? false };
}

export function toResponse(reply: HttpReply): Response {
  return Response.json(reply.body, { status: reply.status, headers: reply.headers });
}
