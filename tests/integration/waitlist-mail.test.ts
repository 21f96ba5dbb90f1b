// The waitlist's offer by e-mail (docs/fair-entry.md): with SMTP configured, a waitlisted shopper whose
// turn comes gets a mail with the sale's link and the offer's deadline. The mail goes through the
// project's own mail sink (scripts/mail-sink.ts, `npm run mail-sink`), started here as a process.
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, describe, expect, it, vi } from "vitest";

const sink: ChildProcess = spawn(
  "node_modules/.bin/tsx",
  ["--import", "./scripts/register.mjs", "scripts/mail-sink.ts", "0"],
  { stdio: ["ignore", "pipe", "inherit"] },
);
let out = "";
sink.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
const port = await vi.waitFor(
  () => {
    const m = /\[mail-sink\] listening on smtp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (!m) throw new Error("mail sink not listening yet");
    return Number(m[1]);
  },
  { timeout: 60_000, interval: 100 },
);
process.env.SMTP_URL = `smtp://127.0.0.1:${port}`;
process.env.NEXTAUTH_URL = "http://shop.test";
delete process.env.PUBLIC_BASE_URL;

const { db } = await import("@/lib/db");
const { env } = await import("@/lib/env");
const { redis } = await import("@/lib/redis");
const { joinWaitlist, readWaitlist } = await import("@/lib/flash/store");
const { sweepOnce } = await import("@/lib/orders/sweeper");
const { formatDateTime } = await import("@/lib/format");
const { defaultLocale, shopTimeZone } = await import("@/lib/i18n/routing");
const { createActivity, createCores, createUsers, drain, tokenFor } = await import("../support/flash");

const { cores, close } = createCores(1);
afterAll(() => {
  close();
  sink.kill();
});

/** The mails the sink printed to one address, body decoded. */
function mailsTo(address: string): string[] {
  return out
    .split("── mail for ")
    .slice(1)
    .filter((m) => m.startsWith(`${address} ──`))
    .map(decodeBody);
}

// No MIME parser in the project's dependencies, and the sink prints raw messages: the two transfer
// encodings nodemailer uses for a plain-text body are decoded here.
function decodeBody(raw: string): string {
  const [head = "", ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join("\n\n");
  const enc = /content-transfer-encoding:\s*([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
  if (enc === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (enc === "quoted-printable") {
    const soft = body.replace(/=\r?\n/g, "");
    const bytes: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      if (soft[i] === "=" && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
        bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(...Buffer.from(soft[i]!, "utf8"));
    }
    return Buffer.from(bytes).toString("utf8");
  }
  return body;
}

describe("the waitlist's offer by e-mail", () => {
  it("mails the next shopper in line the sale's link and the offer's deadline when a unit comes back", async () => {
    const a = await createActivity({ stock: 1, limit: 1, mode: "RESERVE" });
    const [buyer, waiter] = (await createUsers(2)) as [string, string];
    const r = await cores[0]!.admit(a.id, buyer, { quantity: 1, idempotencyKey: "wl-mail-buyer", token: tokenFor(a, buyer) });
    expect(r.ok).toBe(true);
    await drain(a.id);
    expect(await joinWaitlist(redis(), a.id, waiter, Date.now())).toEqual({ kind: "OK", position: 1 });

    // The buyer's hold expires (its pay-by moved into the past rather than waited for): the sweeper
    // returns the unit and offers it to the waiter.
    await db().order.updateMany({ where: { activityId: a.id }, data: { payBy: new Date(Date.now() - 1000) } });
    const now = new Date();
    await sweepOnce(db(), redis(), { now });
    expect((await readWaitlist(redis(), a.id, waiter)).offerUntilMs).toBe(now.getTime() + env().WAITLIST_OFFER_SEC * 1000);

    const { email } = await db().user.findUniqueOrThrow({ where: { id: waiter } });
    const { slug } = await db().activity.findUniqueOrThrow({ where: { id: a.id } });
    const mails = await vi.waitFor(
      () => {
        const m = mailsTo(email);
        if (m.length === 0) throw new Error("no mail yet");
        return m;
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain(`http://shop.test/activities/${slug}`);
    const until = new Date(now.getTime() + env().WAITLIST_OFFER_SEC * 1000);
    expect(mails[0]).toContain(formatDateTime(until, defaultLocale, shopTimeZone));
    // The deadline names its own zone (the shop's); the text adds no other.
    expect(mails[0]).not.toContain("UTC）");
    expect(mails[0]).not.toContain("(UTC)");
    // Nobody else got mail about this sale: the buyer whose hold lapsed is not on the waitlist.
    const buyerEmail = (await db().user.findUniqueOrThrow({ where: { id: buyer } })).email;
    expect(mailsTo(buyerEmail)).toEqual([]);
  });
});
