import "server-only";
import type http from "node:http";
import type { SessionReader } from "@/lib/auth/session-token";
import type { FlashCore } from "@/lib/flash/core";
import {
  buyReply, matchFlashRoute, meReply, progressReply, rateLimited, refusal, ticketReply, timeReply, tokenReply, type DoorContext, type HttpReply,
} from "@/lib/flash/http";
import type { Gate } from "@/lib/gate";
import { CLIENT_IP_HEADER } from "@/lib/http/front-door";
import { errorText, log } from "@/lib/log";

const logger = log.child({ component: "web" });

/** The hot server answers this request itself (and reads its body against the route's own limit). */
export const isFlashRoute = (method: string, pathname: string) => matchFlashRoute(method, pathname) !== null;

/**
 * The hot paths (buy, token, ticket, me, progress, time) answered on node:http through the shared
 * core; every other request goes to `fallback` (Next.js). Used by scripts/server.ts and the tests.
 */
export function createHotHandler(o: {
  core: FlashCore;
  sessions: SessionReader;
  gate?: Gate;
  fallback: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** /healthz, /readyz, /metrics (lib/ops/http.ts); true when it answered. */
  ops?: (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => boolean;
}): (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => void {
  const { core, sessions } = o;

  async function answer(match: NonNullable<ReturnType<typeof matchFlashRoute>>, req: http.IncomingMessage): Promise<HttpReply> {
    const door: DoorContext = { gate: o.gate, ip: req.headers[CLIENT_IP_HEADER] as string | undefined, cookie: req.headers.cookie };
    const user = async () => {
      const claims = await sessions.read(req.headers.cookie, req.headers.authorization);
      if (!claims) await o.gate?.limits.withoutSession(door.ip);
      return claims;
    };
    // An address that sent too many requests without a session is refused before its token is read.
    const wait = match.route === "time" || match.route === "progress" ? 0 : (o.gate?.limits.addressBlockedHere(door.ip) ?? 0);
    if (wait) return rateLimited(wait);
    switch (match.route) {
      case "time":
        return timeReply();
      case "progress":
        return progressReply(core, match.activityId);
      case "token":
        return tokenReply(core, await user(), match.activityId, door);
      case "ticket":
        return ticketReply(core, await user(), match.ticketId, door);
      case "me":
        return meReply(core, await user(), match.activityId, door);
      case "buy":
        // destroyOnReturn: false keeps the socket when a body is refused past its limit, so the 413 can still be sent.
        return buyReply(core, await user(), match.activityId, {
          contentLength: req.headers["content-length"],
          chunks: req.iterator({ destroyOnReturn: false }),
        }, door);
    }
  }

  return (req, res, pathname) => {
    const match = matchFlashRoute(req.method ?? "GET", pathname);
    if (!match) {
      if (o.ops?.(req, res, pathname)) return;
      return o.fallback(req, res);
    }
    void answer(match, req)
      .then((reply) => {
        // A 429 is held (a tarpit; lib/rate-limit): a bot's closed loop slows to the delay's pace.
        const delay = reply.status === 429 ? (o.gate?.limits.refusalDelayMs ?? 0) : 0;
        if (delay) setTimeout(send, delay, res, reply);
        else send(res, reply);
      })
      .catch((e: unknown) => {
        // A client that hung up (or timed out) mid-body is nobody's error: no answer, no error line.
        if (req.destroyed || res.destroyed) return void logger.debug({ route: match.route }, "client went away");
        logger.error({ err: errorText(e), route: match.route }, "flash route failed");
        send(res, refusal("UNAVAILABLE"));
      });
  };
}

function send(res: http.ServerResponse, reply: HttpReply) {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...reply.headers,
  });
  res.end(body);
}
