import "server-only";
import type http from "node:http";
import { errorText, log } from "@/lib/log";
import { paymentProvider } from "@/lib/payments";
import { handleNotification } from "@/lib/payments/notifications";
import type { ProviderReply } from "@/lib/payments/types";

/** Path of the shop's notification endpoint of each provider: /api/payments/{sandbox|stripe}/notify. */
export const NOTIFY_PATH = /^\/api\/payments\/([a-z]+)\/notify$/;
const MAX_NOTIFICATION = 64 * 1024;
const TOO_LARGE: ProviderReply = { status: 413, body: "body too large", contentType: "text/plain" };

/** The notification endpoint without a framework: the route handler and the hot server both call it. */
export async function notifyReply(providerName: string, raw: string, headers: Headers): Promise<ProviderReply> {
  const provider = paymentProvider();
  if (provider.name !== providerName) return { status: 404, body: "not found", contentType: "text/plain" };
  if (raw.length > MAX_NOTIFICATION) return TOO_LARGE;
  return handleNotification(provider, raw, headers);
}

/** node:http adapter for scripts/server.ts, so a burst of notifications skips the Next.js router. */
export function serveNotification(req: http.IncomingMessage, res: http.ServerResponse, providerName: string): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (c: Buffer) => {
    size += c.length;
    if (size <= MAX_NOTIFICATION) chunks.push(c);
  });
  req.on("end", () => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const reply =
      size > MAX_NOTIFICATION
        ? Promise.resolve(TOO_LARGE)
        : notifyReply(providerName, Buffer.concat(chunks).toString("utf8"), headers);
    reply
      .catch((e: unknown) => {
        log.error({ component: "payments", err: errorText(e) }, "notification failed; the provider retries it");
        return { status: 503, body: "retry", contentType: "text/plain" };
      })
      .then((reply) => {
        res.writeHead(reply.status, {
          "content-type": reply.contentType,
          "content-length": Buffer.byteLength(reply.body),
        });
        res.end(reply.body);
      });
  });
}
