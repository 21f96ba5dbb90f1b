import "server-only";
import { z } from "zod";
import { env } from "@/lib/env";
import type { PaymentProvider, Verified } from "@/lib/payments/types";
import {
  createCharge,
  getCharge,
  listCharges,
  refundCharge,
  sandboxSecret,
  toEntry,
} from "@/lib/payments/sandbox/ledger";
import { SIGNATURE_HEADER, checkSignature } from "@/lib/payments/sandbox/signature";

const eventSchema = z.object({
  id: z.string().min(1).max(100),
  type: z.enum(["charge.paid", "charge.declined"]),
  session: z.string().min(1).max(100),
  reference: z.string().min(1).max(100),
  amount: z.number().int().nonnegative(),
  currency: z.string().length(3),
  paid_at: z.iso.datetime().nullable(),
});

/** The shop's client of the sandbox provider. */
export function sandboxProvider(baseUrl: string): PaymentProvider {
  return {
    name: "sandbox",
    async createCheckout(req) {
      const notifyUrl = `${baseUrl}/api/payments/sandbox/notify`;
      const c = await createCharge({ ...req, notifyUrl });
      const query = req.delivery ? `?delivery=${req.delivery}` : "";
      return { ref: c.id, url: `${baseUrl}/pay/sandbox/${c.id}${query}` };
    },
    async verifyNotification(rawBody, headers): Promise<Verified> {
      const check = checkSignature(
        sandboxSecret(),
        rawBody,
        headers.get(SIGNATURE_HEADER),
        env().PAYMENT_WEBHOOK_TOLERANCE_SEC,
      );
      if (check !== "OK") return { ok: false, reason: check };
      let json: unknown;
      try {
        json = JSON.parse(rawBody);
      } catch {
        return { ok: false, reason: "BAD_INPUT" };
      }
      const e = eventSchema.safeParse(json);
      if (!e.success) return { ok: false, reason: "BAD_INPUT" };
      const ev = e.data;
      if (ev.type === "charge.declined")
        return { ok: true, notice: { kind: "declined", ref: ev.session, eventId: ev.id } };
      const entry = {
        ref: ev.session,
        orderId: ev.reference,
        amount: ev.amount,
        currency: ev.currency,
        status: "paid" as const,
        paidAt: ev.paid_at ? new Date(ev.paid_at) : new Date(),
      };
      return { ok: true, notice: { kind: "paid", entry, eventId: ev.id } };
    },
    // The sandbox, like several Asian providers, wants the literal text "success" to stop retrying.
    reply: (accepted) =>
      accepted
        ? { status: 200, body: "success", contentType: "text/plain" }
        : { status: 400, body: "fail", contentType: "text/plain" },
    async retrieve(ref) {
      const c = await getCharge(ref);
      return c ? toEntry(c) : null;
    },
    async refund(ref) {
      const c = await refundCharge(ref);
      if (!c || c.status !== "REFUNDED")
        throw new Error(`sandbox refund of ${ref} refused (${c?.status ?? "unknown"})`);
      return { refundRef: `sbx_re_${c.id.slice("sbx_cs_".length)}` };
    },
    async listSince(since) {
      return (await listCharges(since)).map(toEntry);
    },
  };
}
