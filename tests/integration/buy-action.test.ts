import { describe, expect, it, vi } from "vitest";
import { createActivity, createUsers, tokenFor } from "../support/flash";

// The server action's session comes from next-auth inside Next.js; here it is the user we choose.
const session = vi.hoisted(() => ({ user: null as null | { id: string; role: string } }));
vi.mock("@/lib/auth/session", () => ({ currentUser: async () => session.user }));
vi.mock("next/headers", () => ({ headers: async () => new Headers() }));

const { buy } = await import("@/app/(shop)/activities/[slug]/actions");

describe("the buy server action (same core as POST /api/activities/{id}/orders)", () => {
  it("admits a signed-in shopper once and refuses the rest with codes", async () => {
    const a = await createActivity({ stock: 1, limit: 1 });
    const [u1, u2] = await createUsers(2);

    session.user = null;
    expect(await buy({ activityId: a.id, quantity: 1, idempotencyKey: "action-key-1", token: tokenFor(a, u1!) })).toEqual({
      ok: false,
      code: "UNAUTHENTICATED",
    });

    session.user = { id: u1!, role: "SHOPPER" };
    expect(await buy({ activityId: a.id, quantity: "x", idempotencyKey: "action-key-1", token: tokenFor(a, u1!) })).toMatchObject({
      ok: false,
      code: "BAD_INPUT",
      fields: ["quantity"],
    });
    const first = await buy({ activityId: a.id, quantity: "1", idempotencyKey: "action-key-1", token: tokenFor(a, u1!) });
    expect(first).toMatchObject({ ok: true, sequence: 1 });
    const retry = await buy({ activityId: a.id, quantity: 1, idempotencyKey: "action-key-1", token: tokenFor(a, u1!) });
    expect(retry).toEqual(first);

    session.user = { id: u2!, role: "SHOPPER" };
    expect(await buy({ activityId: a.id, quantity: 1, idempotencyKey: "action-key-2", token: tokenFor(a, u2!) })).toEqual({
      ok: false,
      code: "SOLD_OUT",
    });
  });
});
