import "server-only";
import type http from "node:http";
import type { SessionReader } from "@/lib/auth/session-token";
import type { FlashCore } from "@/lib/flash/core";
import {
  buyReply, isSharedReply, matchFlashRoute, meReply, progressReply, rateLimited, refusal, refuseBuyEarly, ticketReply,
  timeReply, tokenReply, type DoorContext, type HttpReply, type RequestBody,
} from "@/lib/flash/http";
import type { Gate } from "@/lib/gate";
import { CLIENT_IP_HEADER } from "@/lib/http/front-door";
import { errorText, log } from "@/lib/log";

const logger = log.child({ component: "web" });

/** The hot server answers this request itself (and reads its body against the route's own limit). */
export const isFlashRoute = (method: string, pathname: string) => matchFlashRoute(method, pathname) !== null;

type Match = NonNullable<ReturnType<typeof matchFlashRoute>>;

/** A reply as node:http writes it: status, a flat [name, value, …] header list, the body's bytes. */
interface Wire {
  status: number;
  head: string[];
  body: Buffer;
}

/**
 * The hot paths (buy, token, ticket, me, progress, time) answered on node:http through the shared
 * core; every other request goes to `fallback` (Next.js). Used by scripts/server.ts and the tests.
 *
 * Kept lean against a bare node:http server (bench/reference/server.ts): a refusal the process can
 * give from its caches (the sold-out crowd) is answered in the request's own tick, with no promise,
 * from bytes encoded once; every answer is written with one writeHead(status, list) + end(bytes).
 */
export function createHotHandler(o: {
  core: FlashCore;
  sessions: SessionReader;
  gate?: Gate;
  fallback: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** /healthz, /readyz, /metrics (lib/ops/http.ts); true when it answered. */
  ops?: (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => boolean;
  /**
   * Headers every answer carries (the security headers), written with each answer. Give them when
   * the front door leaves these routes' headers to this handler (FrontDoorOptions.setsOwnHeaders).
   */
  headers?: Record<string, string>;
}): (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => void {
  const { core, sessions } = o;
  const always = Object.entries(o.headers ?? {}).flat();
  // Shared replies (lib/flash/http.ts refusal) are encoded once, on first use.
  const wires = new WeakMap<HttpReply, Wire>();

  const encode = (reply: HttpReply): Wire => {
    const body = Buffer.from(JSON.stringify(reply.body));
    const head = ["content-type", "application/json", "content-length", String(body.length), ...always];
    if (reply.headers) for (const [name, value] of Object.entries(reply.headers)) head.push(name, value);
    return { status: reply.status, head, body };
  };

  const send = (res: http.ServerResponse, reply: HttpReply) => {
    if (res.headersSent || res.destroyed) return;
    let wire = wires.get(reply);
    if (!wire) {
      wire = encode(reply);
      if (isSharedReply(reply)) wires.set(reply, wire);
    }
    res.writeHead(wire.status, wire.head);
    res.end(wire.body);
  };

  const door = (req: http.IncomingMessage): DoorContext => ({
    gate: o.gate,
    ip: req.headers[CLIENT_IP_HEADER] as string | undefined,
    cookie: req.headers.cookie,
  });
  const user = async (req: http.IncomingMessage, d: DoorContext) => {
    const claims = await sessions.read(req.headers.cookie, req.headers.authorization);
    if (!claims) await o.gate?.limits.withoutSession(d.ip);
    return claims;
  };

  async function answer(match: Match, req: http.IncomingMessage): Promise<HttpReply> {
    const d = door(req);
    // An address that sent too many requests without a session is refused before its token is read.
    const wait = match.route === "time" || match.route === "progress" ? 0 : (o.gate?.limits.addressBlockedHere(d.ip) ?? 0);
    if (wait) return rateLimited(wait);
    switch (match.route) {
      case "time":
        return timeReply();
      case "progress":
        return progressReply(core, match.activityId);
      case "token":
        return tokenReply(core, await user(req, d), match.activityId, d);
      case "ticket":
        return ticketReply(core, await user(req, d), match.ticketId, d);
      case "me":
        return meReply(core, await user(req, d), match.activityId, d);
      case "buy":
        return buyReply(core, await user(req, d), match.activityId, bodyOf(req), d);
    }
  }

  return (req, res, pathname) => {
    const match = matchFlashRoute(req.method ?? "GET", pathname);
    if (!match) {
      if (o.ops?.(req, res, pathname)) return;
      return o.fallback(req, res);
    }
    if (match.route === "buy") {
      // The sold-out crowd: a known session and a refusal from the cached sale state, answered now.
      const known = sessions.peek(req.headers.cookie, req.headers.authorization);
      const early = known === undefined ? null : refuseBuyEarly(core, known, match.activityId);
      if (early) return send(res, early);
    }
    answer(match, req).then(
      (reply) => {
        // A 429 is held (a tarpit; lib/rate-limit): a bot's closed loop slows to the delay's pace.
        const delay = reply.status === 429 ? (o.gate?.limits.refusalDelayMs ?? 0) : 0;
        if (delay) setTimeout(send, delay, res, reply);
        else send(res, reply);
      },
      (e: unknown) => {
        // A client that hung up (or timed out) mid-body is nobody's error: no answer, no error line.
        if (req.destroyed || res.destroyed) return void logger.debug({ route: match.route }, "client went away");
        logger.error({ err: errorText(e), route: match.route }, "flash route failed");
        send(res, refusal("UNAVAILABLE"));
      },
    );
  };
}

/** The request body as the shared readers take it, read from node:http's events (one promise per body). */
function bodyOf(req: http.IncomingMessage): RequestBody {
  return {
    contentLength: req.headers["content-length"],
    // destroyOnReturn: false keeps the socket when a body is refused past its limit, so the 413 can still be sent.
    chunks: { [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }) },
    read: (maxBytes) => readIncoming(req, maxBytes),
  };
}

// Past the limit the rest stays unread (the 413 closes the connection); a request that ends early rejects.
function readIncoming(req: http.IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData).off("end", onEnd).off("close", onClose).off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void parts.push(chunk);
      done();
      req.pause();
      resolve(null);
    };
    const onEnd = () => {
      done();
      resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    };
    const onClose = () => {
      done();
      reject(new Error("request closed before its body ended"));
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    req.on("data", onData).on("end", onEnd).on("close", onClose).on("error", onError);
  });
}
