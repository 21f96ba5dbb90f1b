import "server-only";
import { z } from "zod";
import { db } from "@/lib/db";
import { redis } from "@/lib/redis";
import { preheatIfDue } from "@/lib/flash/preheat";
import { CHANNEL_NAME, readState, resetUnsold } from "@/lib/flash/store";
import { recordAudit } from "@/lib/admin/audit";
import { badInput, fail, type AdminResult } from "@/lib/admin/results";
import { idSchema } from "@/lib/admin/schemas";
import { createApiKey, pastChannelHistory, rebalanceChannels, revokeApiKey } from "@/lib/channels";
import { DEFAULT_WEIGHTS, proposeSplit, type ChannelHistory, type SplitWeights } from "@/lib/channels/split";
import { publishEvent } from "@/lib/admin/activities";

/*
 * The admin console's side of channel allocation (docs/channels.md): the split of a sale's sellable
 * stock over its channels (proposed from history, accepted or edited by the admin), rebalances, and
 * partners' API keys. Every change is audited.
 */

const channelName = z.string().trim().regex(CHANNEL_NAME, "channelName");
const count = (max: number) => z.coerce.number({ error: "wholeNumber" }).int("wholeNumber").min(0, "wholeNumber").max(max, "wholeNumber");

export const channelRowSchema = z.object({
  channel: channelName,
  share: count(10_000_000),
  volume: count(1_000_000_000),
  conversion: count(1000),
  aov: count(1_000_000_000),
});

export const saveChannelsSchema = z.object({
  activityId: idSchema,
  /** The rows as JSON (the form's client keeps them); [] removes the channels. */
  rows: z.string().max(20_000).transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "invalid" });
      return z.NEVER;
    }
  }).pipe(z.array(channelRowSchema).max(32, "invalid")),
  /** Seconds after the start from which an empty channel borrows; "" (or absent): never. */
  borrowAfterSec: z.union([z.literal("").transform(() => null), count(7 * 86_400)]).optional().default(null),
});

export const proposeSchema = z.object({
  activityId: idSchema,
  rows: saveChannelsSchema.shape.rows,
  /** Take the history from past sales rather than the rows' figures. */
  fromPast: z.enum(["0", "1"]).default("0"),
  weights: z
    .object({ volume: z.coerce.number().min(0).max(1), conversion: z.coerce.number().min(0).max(1), aov: z.coerce.number().min(0).max(1) })
    .default(DEFAULT_WEIGHTS),
});

export const rebalanceSchema = z.object({
  activityId: idSchema,
  from: channelName,
  to: channelName,
  units: z.coerce.number({ error: "wholeNumber" }).int("wholeNumber").min(1, "wholeNumber").max(10_000_000, "wholeNumber"),
});

export const createKeySchema = z.object({
  channel: channelName.refine((c) => c !== "web" && c !== "app", "channelReserved"),
  label: z.string().trim().min(1, "enterName").max(120, "max120"),
});
export const revokeKeySchema = z.object({ id: idSchema });

/** A sale's channels, oldest-first as the admin saved them. */
export function listChannels(activityId: string) {
  return db().saleChannel.findMany({ where: { activityId }, orderBy: { channel: "asc" } });
}

/** The proposal: the rows' history (or the past sales'), weighted, over the sale's sellable stock. */
export async function proposeChannels(
  input: z.output<typeof proposeSchema>,
): Promise<AdminResult<{ rows: (ChannelHistory & { share: number })[]; sellable: number }>> {
  const a = await db().activity.findUnique({ where: { id: input.activityId }, select: { stock: true } });
  if (!a) return fail("NOT_FOUND", "saleMissing");
  const names = input.rows.map((r) => r.channel);
  const history = input.fromPast === "1" ? await pastChannelHistory(db(), names, input.activityId) : input.rows;
  const w: SplitWeights = input.weights;
  const shares = proposeSplit(a.stock, history, w);
  return { ok: true, sellable: a.stock, rows: history.map((h, i) => ({ ...h, share: shares[i]! })) };
}

/**
 * Saves the split. Only before anyone was admitted (then the sale's Redis state is copied afresh);
 * later, units move by rebalance. The shares must sum to the sellable stock (the safety share is
 * already off it); a sale with channels has one stock segment, no pre-queue and no pre-sale.
 */
export async function saveChannels(input: z.output<typeof saveChannelsSchema>, actorId: string): Promise<AdminResult> {
  const a = await db().activity.findUnique({ where: { id: input.activityId } });
  if (!a) return fail("NOT_FOUND", "saleMissing");
  if (a.status === "ENDED" || a.status === "CANCELLED") return fail("CONFLICT", "saleClosed");
  const rows = input.rows;
  if (new Set(rows.map((r) => r.channel)).size !== rows.length) return badInput({ rows: "channelTwice" });
  if (rows.length > 0) {
    if (a.prequeueMinutes > 0 || a.stockSegments > 1 || a.presaleDeposit > 0) return badInput({ rows: "channelsExclusive" });
    const sum = rows.reduce((n, r) => n + r.share, 0);
    if (sum !== a.stock) return badInput({ rows: "sharesSum" });
  }
  const admitted = (await readState(redis(), a.id))?.admitted ?? 0;
  if (admitted > 0 || a.startAt.getTime() <= Date.now()) return fail("CONFLICT", "channelsStarted");
  // Forget the unsold Redis state first (refused once anyone was admitted), so the next preheat copies the split.
  if (!(await resetUnsold(redis(), a.id))) return fail("CONFLICT", "channelsStarted");
  await db().$transaction(async (tx) => {
    await tx.saleChannel.deleteMany({ where: { activityId: a.id } });
    if (rows.length) await tx.saleChannel.createMany({ data: rows.map((r) => ({ activityId: a.id, ...r })) });
    await tx.activity.update({ where: { id: a.id }, data: { channelBorrowAfterSec: rows.length ? input.borrowAfterSec : null } });
    await recordAudit(tx, { actorId, action: "activity.channels", activityId: a.id, details: { rows, borrowAfterSec: input.borrowAfterSec } });
  });
  await preheatIfDue(db(), redis(), a);
  await publishEvent(a.id, "channels");
  return { ok: true };
}

/** Moves unsold units between two channels of a running sale (lib/channels rebalanceChannels). */
export async function rebalance(input: z.output<typeof rebalanceSchema>, actorId: string): Promise<AdminResult<{ fromLeft: number }>> {
  if (input.from === input.to) return badInput({ to: "channelSame" });
  const a = await db().activity.findUnique({ where: { id: input.activityId }, select: { id: true } });
  if (!a) return fail("NOT_FOUND", "saleMissing");
  const r = await rebalanceChannels(db(), redis(), a.id, input.from, input.to, input.units);
  if (!r.ok) return r.code === "NO_CHANNEL" ? badInput({ from: "channelUnknown" }) : badInput({ units: "channelShort" });
  await db().$transaction((tx) =>
    recordAudit(tx, { actorId, action: "activity.rebalance", activityId: a.id, details: { from: input.from, to: input.to, units: input.units } }),
  );
  return { ok: true, fromLeft: r.fromLeft };
}

export function listApiKeys() {
  return db().apiKey.findMany({ orderBy: { createdAt: "desc" }, select: { id: true, channel: true, label: true, prefix: true, createdAt: true, revokedAt: true } });
}

/** A new partner key: the reply carries the key itself, the only time it is ever shown. */
export async function addApiKey(input: z.output<typeof createKeySchema>, actorId: string): Promise<AdminResult<{ id: string; key: string }>> {
  const made = await createApiKey(db(), input.channel, input.label);
  await db().$transaction((tx) => recordAudit(tx, { actorId, action: "gate.apikey.create", details: { id: made.id, channel: input.channel, label: input.label } }));
  return { ok: true, ...made };
}

export async function removeApiKey(id: string, actorId: string): Promise<AdminResult> {
  if (!(await revokeApiKey(db(), id))) return fail("NOT_FOUND", "entryGone");
  await db().$transaction((tx) => recordAudit(tx, { actorId, action: "gate.apikey.revoke", details: { id } }));
  return { ok: true };
}
