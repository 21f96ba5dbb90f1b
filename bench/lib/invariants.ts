import type { RedisClient } from "@/lib/redis-connect";
import { db } from "@/lib/db";
import { checkInvariants, readSaleSnapshot, type Check } from "@/lib/flash/invariants";
import { TICKET_STATE } from "@/lib/flash/store";

// The invariant checks are lib/flash/invariants.ts, shared with the integration tests; this adds
// what only the load generator observed, and what a bench run (ORDER mode, no restock) promises.
export { waitForDrain, type Check } from "@/lib/flash/invariants";

/** What the load generator saw, to hold against the stores. */
export interface Observed {
  /** Ticket ids the clicks were given (202). */
  ticketIds: string[];
  /** Lowest Redis stock the sampler read during the load. */
  minRedisStock: number | null;
  /** Retried clicks (same idempotency key) and whether each got its first ticket back. */
  replays: { tried: number; sameTicket: number };
  /** Waiting browsers that never saw their final answer. */
  unanswered: number;
  /** A ticket read by another shopper / by no one: statuses that came back (I5 wants 404 / 401). */
  foreignReads: { tried: number; hidden: number };
}

/**
 * I1–I5 for one activity, read back from PostgreSQL and Redis after the queue has drained. The
 * bench sells in ORDER mode and nothing expires or is cancelled during a run, so stock only
 * leaves through admission and only comes back through a refused ticket.
 */
export async function checkBenchInvariants(
  r: RedisClient,
  a: { id: string; stock: number },
  seen: Observed,
): Promise<Check[]> {
  const s = await readSaleSnapshot(db(), r, a.id);
  const checks = checkInvariants(s, { offered: a.stock, given: seen.ticketIds });
  const check = (invariant: Check["invariant"], name: string, ok: boolean, detail: string) =>
    checks.push({ invariant, name, ok, detail });

  const admittedUnits = s.entries.reduce((n, e) => n + e.quantity, 0);
  const rejected = s.entries.filter((e) => s.tickets.get(e.ticketId)?.state === TICKET_STATE.rejected);
  check(
    "I1",
    "Redis: stock never negative during the load (lowest sampled)",
    (seen.minRedisStock ?? 0) >= 0,
    `lowest sampled ${seen.minRedisStock ?? "n/a"}`,
  );
  check(
    "I1",
    "Redis: admitted units ≤ stock (no stock came back during the run)",
    admittedUnits <= a.stock,
    `${admittedUnits} admitted of ${a.stock}`,
  );
  check(
    "I1",
    "no admitted ticket refused by the database (Redis admitted only what PostgreSQL could hold)",
    rejected.length === 0,
    rejected.length ? `${rejected.length} refused, e.g. ${rejected[0]!.ticketId}` : "0 refused",
  );
  check("I2", "every watching shopper saw a final answer", seen.unanswered === 0, `${seen.unanswered} never saw one`);
  check(
    "I3",
    "a retried click (same idempotency key) gets its first ticket back",
    seen.replays.sameTicket === seen.replays.tried,
    `${seen.replays.sameTicket} of ${seen.replays.tried}`,
  );
  if (seen.foreignReads.tried > 0) {
    check(
      "I5",
      "another shopper (or no session) cannot read a ticket",
      seen.foreignReads.hidden === seen.foreignReads.tried,
      `${seen.foreignReads.hidden} of ${seen.foreignReads.tried} reads refused`,
    );
  }
  return checks.sort((x, y) => x.invariant.localeCompare(y.invariant));
}
