import "server-only";
import { isIP } from "node:net";
import { z } from "zod";
import { db } from "@/lib/db";
import { isUniqueViolation } from "@/lib/auth/users";
import { recordAudit } from "@/lib/admin/audit";
import { badInput, fail, type AdminResult } from "@/lib/admin/results";
import { BlockKind } from "@/lib/generated/prisma/enums";
import { errorText, log } from "@/lib/log";

const logger = log.child({ component: "blocklist" });
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export const addBlockSchema = z.object({
  kind: z.enum(BlockKind, { error: "chooseKind" }),
  value: z.string({ error: "enterValue" }).trim().min(1, "enterValue").max(253, "max253"),
  note: z.string().trim().max(200, "max200").default(""),
});
export const removeBlockSchema = z.object({ id: z.string().regex(/^[a-z0-9]{8,40}$/) });

/** The stored value for what the admin typed: a user (by email or id), an address, a domain. */
async function normalize(kind: BlockKind, raw: string): Promise<{ value: string } | { error: string }> {
  if (kind === "IP") return isIP(raw) ? { value: raw } : { error: "enterIp" };
  if (kind === "EMAIL_DOMAIN") {
    const domain = raw.replace(/^@/, "").toLowerCase();
    return DOMAIN.test(domain) ? { value: domain } : { error: "enterDomain" };
  }
  const user = await db().user.findFirst({
    where: raw.includes("@") ? { email: raw.toLowerCase() } : { id: raw },
    select: { id: true, role: true },
  });
  if (!user) return { error: "noAccount" };
  if (user.role === "ADMIN") return { error: "adminNotBlockable" };
  return { value: user.id };
}

export async function addBlock(input: z.output<typeof addBlockSchema>, actorId: string): Promise<AdminResult<{ id: string }>> {
  const normalized = await normalize(input.kind, input.value);
  if ("error" in normalized) return badInput({ value: normalized.error });
  try {
    const entry = await db().$transaction(async (tx) => {
      const created = await tx.blockedEntry.create({ data: { kind: input.kind, value: normalized.value, note: input.note, createdById: actorId } });
      await recordAudit(tx, { actorId, action: "gate.block", details: { kind: input.kind, value: normalized.value, note: input.note } });
      return created;
    });
    return { ok: true, id: entry.id };
  } catch (e) {
    if (isUniqueViolation(e)) return fail("CONFLICT", "alreadyBlocked");
    throw e;
  }
}

export async function removeBlock(id: string, actorId: string): Promise<AdminResult> {
  const removed = await db().$transaction(async (tx) => {
    const entry = await tx.blockedEntry.findUnique({ where: { id } });
    if (!entry) return false;
    await tx.blockedEntry.delete({ where: { id } });
    await recordAudit(tx, { actorId, action: "gate.unblock", details: { kind: entry.kind, value: entry.value } });
    return true;
  });
  return removed ? { ok: true } : fail("NOT_FOUND", "entryGone");
}

export function listBlocks() {
  return db().blockedEntry.findMany({ orderBy: { createdAt: "desc" }, take: 500 });
}

export interface Who {
  userId?: string | null;
  ip?: string | null;
  email?: string | null;
}

/**
 * The blocklist as each web process checks it: sets in memory, reloaded from PostgreSQL at most every
 * `ttlMs` in the background, so a check on the hot path is a Set lookup. A change takes effect
 * everywhere within `ttlMs` (at once in the process that made it, see `reload`).
 */
export class BlocklistView {
  private users = new Set<string>();
  private ips = new Set<string>();
  private domains = new Set<string>();
  private loadedAt = 0;
  private pending: Promise<void> | null = null;

  constructor(
    private load: () => Promise<{ kind: BlockKind; value: string }[]> = () =>
      db().blockedEntry.findMany({ select: { kind: true, value: true } }),
    private ttlMs = 5_000,
  ) {}

  /** Is anyone in `who` blocked? Never waits: a stale view starts a reload and answers from what it has. */
  blocks(who: Who, now = Date.now()): boolean {
    if (now - this.loadedAt >= this.ttlMs) void this.reload();
    const domain = who.email?.slice(who.email.lastIndexOf("@") + 1).toLowerCase();
    return (
      (!!who.userId && this.users.has(who.userId)) ||
      (!!who.ip && this.ips.has(who.ip)) ||
      (!!domain && this.domains.has(domain))
    );
  }

  reload(): Promise<void> {
    this.pending ??= this.load()
      .then((rows) => {
        const pick = (k: BlockKind) => new Set(rows.filter((r) => r.kind === k).map((r) => r.value));
        this.users = pick("USER");
        this.ips = pick("IP");
        this.domains = pick("EMAIL_DOMAIN");
        this.loadedAt = Date.now();
      })
      .catch((e: unknown) => {
        // The last list stays in force; the next check tries again after the period.
        this.loadedAt = Date.now();
        logger.error({ err: errorText(e) }, "blocklist reload failed");
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }
}
