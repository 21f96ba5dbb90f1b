import "server-only";
import type http from "node:http";
import type { SessionReader } from "@/lib/auth/session-token";
import type { FlashCore } from "@/lib/flash/core";
import {
  API_KEY_HEADER, buyReply, channelOf, isSharedReply, matchFlashRoute, meReply, partnerBuyReply, progressReply, rateLimited, refusal, refuseBuyEarly, ticketReply,
  timeReply, tokenReply, type DoorContext, type HttpReply, type RequestBody,
} from "@/lib/flash/http";
import type { Gate } from "@/lib/gate";
import { CLIENT_IP_HEADER } from "@/lib/http/front-door";
import { errorText, log } from "@/lib/log";

const logger = log.child({ component: "web" });

/** The hot server answers this request itself (and reads its body against the route's own limit). */
export const isFlashRoute = (method: string, pathname: string) => matchFlashRoute(method, pathname) !== null;

type Match = NonNullable<ReturnType<typeof matchFlashRoute>>;

/** The routes every visitor gets, with or without a session (time, shared progress): no session is read. */
const isPublicRoute = (m: Match) => m.route === "time" || m.route === "progress";

/** A reply as node:http writes it: status, a flat [name, value, …] header list, the body. */
interface Wire {
  status: number;
  head: string[];
  // A string: node:http sends it in the same chunk as the head (a Buffer is a chunk of its own; alone, no CPU difference).
  body: string;
}

type Claims = Awaited<ReturnType<SessionReader["read"]>>;

/**
 * The hot paths (buy, token, ticket, me, progress, time) answered on node:http through the shared
 * core; every other request goes to `fallback` (Next.js). Used by scripts/server.ts and the tests.
 *
 * Kept lean against a bare node:http server (bench/reference/server.ts): a refusal the process can
 * give from its caches (the sold-out crowd) is answered in the request's own tick, with no promise,
 * from bytes encoded once; a known session is read without a promise (Next.js's AsyncLocalStorage
 * makes every promise cost async hooks); every answer is one writeHead(status, list) + end(body).
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
  /**
   * The partner behind an API key (lib/channels verifyApiKey), for POST /api/partner/activities/{id}/orders;
   * without it that route answers 401 BAD_API_KEY here.
   */
  partner?: (key: string | undefined) => Promise<{ id: string; channel: string } | null>;
}): (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => void {
  const { core, sessions } = o;
  const always = Object.entries(o.headers ?? {}).flat();
  // Shared replies (lib/flash/http.ts refusal) are encoded once, on first use.
  const wires = new WeakMap<HttpReply, Wire>();
  // The header list after content-length, per headers object (the replies share a few: no-store, …).
  const tails = new WeakMap<Record<string, string>, string[]>();
  const noHeaders: Record<string, string> = {};

  const encode = (reply: HttpReply): Wire => {
    const body = JSON.stringify(reply.body);
    const extra = reply.headers ?? noHeaders;
    let tail = tails.get(extra);
    if (!tail) tails.set(extra, (tail = [...always, ...Object.entries(extra).flat()]));
    return { status: reply.status, head: ["content-type", "application/json", "content-length", String(Buffer.byteLength(body)), ...tail], body };
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

  // A 429, and a 401 to a session token that was sent but is no session (forged, garbled, expired), are
  // held (a tarpit; lib/rate-limit): a bot's closed loop slows to the delay's pace instead of taking
  // the core from the crowd. A shopper who sent no token at all is answered at once.
  const reply = (res: http.ServerResponse, r: HttpReply, refusedToken = false) => {
    const delay = r.status === 429 || (refusedToken && r.status === 401) ? (o.gate?.limits.refusalDelayMs ?? 0) : 0;
    if (delay) setTimeout(send, delay, res, r);
    else send(res, r);
  };

  const failed = (req: http.IncomingMessage, res: http.ServerResponse, route: string, e: unknown) => {
    // A client that hung up (or timed out) mid-body is nobody's error: no answer, no error line.
    if (req.destroyed || res.destroyed) return void logger.debug({ route }, "client went away");
    logger.error({ err: errorText(e), route }, "flash route failed");
    send(res, refusal("UNAVAILABLE"));
  };

  const door = (req: http.IncomingMessage): DoorContext => ({
    gate: o.gate,
    ip: req.headers[CLIENT_IP_HEADER] as string | undefined,
    cookie: req.headers.cookie,
    channel: channelOf(req.headers.authorization),
  });
  const user = async (req: http.IncomingMessage, d: DoorContext) => {
    const claims = await sessions.read(req.headers.cookie, req.headers.authorization);
    if (!claims) await o.gate?.limits.withoutSession(d.ip);
    return claims;
  };

  // The routes that need the user, once it is known.
  function route(match: Match, req: http.IncomingMessage, claims: Claims, d: DoorContext): Promise<HttpReply> {
    switch (match.route) {
      case "token":
        return tokenReply(core, claims, match.activityId, d);
      case "ticket":
        return ticketReply(core, claims, match.ticketId, d);
      case "me":
        return meReply(core, claims, match.activityId, d);
      case "buy":
        return buyReply(core, claims, match.activityId, new HotBody(req), d);
      case "partnerBuy":
        return partnerBuy(match.activityId, req, claims, d);
      default:
        throw new Error(`no user route ${match.route}`);
    }
  }

  // The partner route (lib/flash/http.ts partnerBuyReply, as the Next.js route): the door looks up the key.
  async function partnerBuy(activityId: string, req: http.IncomingMessage, claims: Claims, d: DoorContext): Promise<HttpReply> {
    const key = req.headers[API_KEY_HEADER];
    const partner = o.partner && typeof key === "string" ? await o.partner(key) : null;
    return partnerBuyReply(core, partner, claims, activityId, new HotBody(req), d);
  }

  // `known`: the session's claims when the cache has them (SessionReader.peek).
  function answer(match: Match, req: http.IncomingMessage, known: Claims | undefined): HttpReply | Promise<HttpReply> {
    const d = door(req);
    // An address that sent too many requests without a session is refused before its token is read.
    const wait = isPublicRoute(match) ? 0 : (o.gate?.limits.addressBlockedHere(d.ip) ?? 0);
    if (wait) return rateLimited(wait);
    if (match.route === "time") return timeReply();
    if (match.route === "progress") return progressReply(core, match.activityId);
    // A cached session is used as it is; no session or an unknown token goes through read (and the gate).
    if (known) return route(match, req, known, d);
    return user(req, d).then((claims) => route(match, req, claims, d));
  }

  return (req, res, pathname) => {
    const match = matchFlashRoute(req.method ?? "GET", pathname);
    if (!match) {
      if (o.ops?.(req, res, pathname)) return;
      return o.fallback(req, res);
    }
    const open = isPublicRoute(match);
    const known = open ? undefined : sessions.peek(req.headers.cookie, req.headers.authorization);
    if (match.route === "buy") {
      // The sold-out crowd: a known session and a refusal from the cached sale state, answered now.
      const early = known === undefined ? null : refuseBuyEarly(core, known, match.activityId);
      if (early) return send(res, early);
    }
    let r: HttpReply | Promise<HttpReply>;
    try {
      r = answer(match, req, known);
    } catch (e) {
      return failed(req, res, match.route, e);
    }
    // known === undefined: a token was sent that the cache does not hold, so read decided whether it is a session.
    const sentToken = known === undefined && !open;
    if (r instanceof Promise) r.then((x) => reply(res, x, sentToken), (e: unknown) => failed(req, res, match.route, e));
    else reply(res, r, sentToken);
  };
}

type Pending = { parts: Buffer[]; size: number; max: number; resolve: (b: Buffer | null) => void; reject: (e: Error) => void };
const PENDING = Symbol("hot body");
type BodyRequest = http.IncomingMessage & { [PENDING]?: Pending };

/**
 * The request body as the shared readers take it, read from node:http's events (one promise per
 * body). A class and module-level listeners rather than closures: no function is made per request.
 */
class HotBody implements RequestBody {
  constructor(private req: http.IncomingMessage) {}
  get contentLength() {
    return this.req.headers["content-length"];
  }
  get chunks(): AsyncIterable<Uint8Array> {
    const req = this.req;
    // destroyOnReturn: false keeps the socket when a body is refused past its limit, so the 413 can still be sent.
    return { [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }) };
  }
  read(maxBytes: number): Promise<Buffer | null> {
    return readIncoming(this.req, maxBytes);
  }
}

// Past the limit the rest stays unread (the 413 closes the connection); a request that ends early rejects.
function readIncoming(req: BodyRequest, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    req[PENDING] = { parts: [], size: 0, max: maxBytes, resolve, reject };
    req.on("data", onBodyData).on("end", onBodyEnd).on("close", onBodyClose).on("error", onBodyError);
  });
}

function settle(req: BodyRequest): Pending | undefined {
  const pending = req[PENDING];
  req[PENDING] = undefined;
  req.off("data", onBodyData).off("end", onBodyEnd).off("close", onBodyClose).off("error", onBodyError);
  return pending;
}

function onBodyData(this: BodyRequest, chunk: Buffer) {
  const p = this[PENDING];
  if (!p) return;
  p.size += chunk.length;
  if (p.size <= p.max) return void p.parts.push(chunk);
  settle(this);
  this.pause();
  p.resolve(null);
}

function onBodyEnd(this: BodyRequest) {
  const p = settle(this);
  p?.resolve(p.parts.length === 1 ? p.parts[0]! : Buffer.concat(p.parts));
}

function onBodyClose(this: BodyRequest) {
  settle(this)?.reject(new Error("request closed before its body ended"));
}

function onBodyError(this: BodyRequest, e: Error) {
  settle(this)?.reject(e);
}
