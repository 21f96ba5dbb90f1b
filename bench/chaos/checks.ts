import type { RedisClient } from "@/lib/redis-connect";
import { db } from "@/lib/db";
import { checkInvariants, readSaleSnapshot, type Check } from "@/lib/flash/invariants";
import type { Ticket } from "@/bench/chaos/crowd";

export type ChaosCheck = Omit<Check, "invariant"> & { invariant: Check["invariant"] | "API" };

/*
 * Checks of lib/flash/invariants.ts that compare PostgreSQL with the Redis stream and ticket hashes
 * of the whole sale. After Redis lost its data (empty) those records of before the loss no longer
 * exist anywhere, so these four cannot hold whatever the code does; for those scenarios they are
 * replaced by the same promises stated over PostgreSQL and the answers the buyers get (below).
 */
const STREAM_BOUND = [
  "#orders + #rejected = #admitted = #answered",
  "Redis ticket states match PostgreSQL orders one to one",
  "every ticket handed out was admitted",
  "Redis: no user above the limit",
];

const LIVE = new Set(["PENDING_PAYMENT", "PAID"]);

/**
 * I1–I4 once the sale has drained, plus what the crowd saw: every 202 reached a final answer that
 * matches PostgreSQL, and no shopper (one idempotency key each) holds two live orders.
 */
export async function chaosChecks(
  redis: RedisClient,
  o: {
    activityId: string;
    offered: number;
    tickets: Ticket[];
    answers: Map<string, { status: string; code?: string; orderId?: string }>;
    /** Redis came back without (part of) its data: the stream-bound checks cannot apply. */
    redisLost: boolean;
    notFound: number;
    cancelled: boolean;
  },
): Promise<{ checks: ChaosCheck[]; notApplicable: string[] }> {
  const s = await readSaleSnapshot(db(), redis, o.activityId);
  const all: ChaosCheck[] = checkInvariants(s, { offered: o.offered, given: o.tickets.map((t) => t.ticketId) });
  for (const name of STREAM_BOUND)
    if (!all.some((c) => c.name === name)) throw new Error(`lib/flash/invariants.ts no longer has the check "${name}"`);
  const notApplicable = o.redisLost ? STREAM_BOUND : [];
  const checks = all.filter((c) => !notApplicable.includes(c.name));
  const check = (invariant: ChaosCheck["invariant"], name: string, ok: boolean, detail: string) =>
    checks.push({ invariant, name, ok, detail });

  const orders = await db().order.findMany({
    where: { activityId: o.activityId },
    select: { id: true, ticketId: true, userId: true, status: true },
  });
  const byTicket = new Map(orders.map((x) => [x.ticketId, x]));
  const notFinal = o.tickets.filter((t) => !["CONFIRMED", "REJECTED"].includes(o.answers.get(t.ticketId)?.status ?? ""));
  const shown = (xs: Ticket[]) =>
    xs
      .slice(0, 3)
      .map((t) => `${t.ticketId.slice(-8)}: ${o.answers.get(t.ticketId)?.status ?? "unasked"}`)
      .join(", ");
  check(
    "I2",
    "every 202 the crowd saw reached a final state (GET /api/tickets)",
    notFinal.length === 0,
    `${notFinal.length} of ${o.tickets.length} not final${notFinal.length ? ` (${shown(notFinal)})` : ""}`,
  );
  const wrongConfirmed = o.tickets.filter((t) => {
    const a = o.answers.get(t.ticketId);
    const order = byTicket.get(t.ticketId);
    return a?.status === "CONFIRMED" && (!order || order.id !== a.orderId);
  });
  const rejectedWithOrder = o.tickets.filter(
    (t) => o.answers.get(t.ticketId)?.status === "REJECTED" && LIVE.has(byTicket.get(t.ticketId)?.status ?? ""),
  );
  check(
    "I2",
    "each final answer matches PostgreSQL (CONFIRMED = its order, REJECTED = no live order)",
    wrongConfirmed.length === 0 && rejectedWithOrder.length === 0,
    `${wrongConfirmed.length} confirmed without their order, ${rejectedWithOrder.length} rejected with a live order`,
  );
  const perUser = new Map<string, number>();
  for (const x of orders) if (LIVE.has(x.status)) perUser.set(x.userId, (perUser.get(x.userId) ?? 0) + 1);
  const twice = [...perUser.values()].filter((n) => n > 1).length;
  check(
    "I3",
    "no shopper holds two live orders (each used one idempotency key, retried it)",
    twice === 0,
    `${twice} shoppers with more than one`,
  );
  const buyersOff = s.buyers.filter((b) => (s.units.get(b.userId) ?? 0) !== b.units).length;
  const redisOnly = [...s.units].filter(([u, n]) => n > 0 && !s.buyers.some((b) => b.userId === u)).length;
  check(
    "I3",
    "Redis units per user = PostgreSQL buyer rows",
    buyersOff + redisOnly === 0,
    `${buyersOff} buyer rows differ, ${redisOnly} users only in Redis`,
  );
  check("API", "a live sale never answered 404 NOT_FOUND to a buyer", o.notFound === 0, `${o.notFound} answers 404`);
  if (o.cancelled) {
    const payable = orders.filter((x) => LIVE.has(x.status)).length;
    check("I4", "a cancelled sale keeps no payable or paid order", payable === 0, `${payable} live orders`);
  }
  check("RUN", "the crowd was admitted (the run exercised the path)", o.tickets.length > 0, `${o.tickets.length} tickets`);
  return { checks, notApplicable };
}
