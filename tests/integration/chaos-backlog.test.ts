import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";
import { runControl } from "@/lib/admin/controls";
import { ChaosTimeout, within } from "@/bench/chaos/within";
import { createActivity } from "../support/flash";
import { createAdmin, retire } from "../support/admin-fixtures";

/*
 * Why the fault suite makes its backlog by killing the workers (bench/chaos/scenarios.ts, withBacklog).
 * A worker frozen inside its batch transaction holds the sale's row (persistBatch reads it FOR UPDATE;
 * on PGlite its connection holds the one backend), and every admin control updates that row: the
 * control waits for as long as the worker stays frozen. The suite used to freeze the workers with
 * SIGSTOP and resume them only after the control returned, so `cancel` hung with every process idle.
 * Once the worker's connection closes (kill -9), its transaction is rolled back and the control goes on.
 */
const created: string[] = [];
afterAll(async () => {
  for (const id of created) await retire(id);
});

describe("an admin control while a worker holds the sale row", () => {
  it("waits for a frozen worker, and goes through once the worker is killed", async () => {
    const admin = await createAdmin();
    const a = await createActivity({ stock: 5 });
    created.push(a.id);
    // The worker's batch transaction, stopped right after it locked the sale (as persistBatch does).
    const worker = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await worker.connect();
    worker.on("error", () => {}); // its connection is cut below
    await worker.query("BEGIN");
    await worker.query("SELECT status FROM activities WHERE id = $1 FOR UPDATE", [a.id]);

    const control = runControl({ activityId: a.id, action: "cancel" }, admin.id);
    expect(await within("the cancel", 1500, control).catch((e: unknown) => e)).toBeInstanceOf(ChaosTimeout);

    // kill -9: the socket closes with nothing more said; the server rolls the transaction back.
    (worker as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(await within("the cancel once the worker is gone", 20_000, control)).toMatchObject({ ok: true, event: "cancel" });
  });
});
