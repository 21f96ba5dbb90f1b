import { describe, expect, it, vi } from "vitest";
import { createActivity, createUsers } from "../support/flash";

// The server action's session comes from next-auth inside Next.js; here it is the user we choose.
const session = vi.hoisted(() => ({ user: null as null | { id: string; role: string } }));
vi.mock("@/lib/auth/session", () => ({ currentUser: async () => session.user }));
vi.mock("next/headers", () => ({ headers: async () => new Headers() }));

const { buy } = await import("@/app/[locale]/(shop)/activities/[slug]/actions");

const form = (fields: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  return f;
};

/** Where the action redirected to (Next's redirect() throws an error whose digest holds the URL). */
async function redirectOf(p: Promise<unknown>): Promise<string> {
  const e = (await p.then(
    () => expect.fail("the action must redirect"),
    (err: unknown) => err,
  )) as { digest?: string };
  const url = e.digest?.split(";")[2];
  if (!url) throw e;
  return url;
}

describe("the buy form's server action (same core and spec as POST /api/activities/{id}/orders)", () => {
  it("admits a signed-in shopper once, answers with a redirect to the private result page, refuses the rest with codes", async () => {
    const a = await createActivity({ stock: 1, limit: 1 });
    const [u1, u2] = await createUsers(2);
    const fields = { activityId: a.id, slug: "a-sale", quantity: "1" };

    session.user = null;
    expect(await redirectOf(buy(form(fields)))).toBe("/sign-in?callbackUrl=%2Factivities%2Fa-sale");

    session.user = { id: u1!, role: "SHOPPER" };
    expect(await redirectOf(buy(form({ ...fields, quantity: "x" })))).toBe(
      "/activities/a-sale/result?refused=BAD_INPUT",
    );
    // Past the request's byte limit (the same 4 KB as the JSON door), whatever the fields say.
    expect(await redirectOf(buy(form({ ...fields, pad: "p".repeat(5_000) })))).toBe(
      "/activities/a-sale/result?refused=BAD_INPUT",
    );

    const first = await redirectOf(buy(form({ ...fields, idempotencyKey: "action-key-1" })));
    expect(first).toMatch(new RegExp(`^/activities/a-sale/result\\?ticket=${a.id}\\.`));
    // A resubmitted form with the same key gets the first ticket, never a second order.
    expect(await redirectOf(buy(form({ ...fields, idempotencyKey: "action-key-1" })))).toBe(first);
    expect(await redirectOf(buy(form(fields)))).toBe("/activities/a-sale/result?refused=LIMIT_REACHED");

    session.user = { id: u2!, role: "SHOPPER" };
    expect(await redirectOf(buy(form(fields)))).toBe("/activities/a-sale/result?refused=SOLD_OUT");
  });

  it("refuses before the start: the action asks for the buy token like the button does", async () => {
    const a = await createActivity({ stock: 1, startInMs: 600_000 });
    const [u] = await createUsers(1);
    session.user = { id: u!, role: "SHOPPER" };
    expect(await redirectOf(buy(form({ activityId: a.id, slug: "a-sale", quantity: "1" })))).toBe(
      "/activities/a-sale/result?refused=NOT_STARTED",
    );
  });
});
