import { encode } from "next-auth/jwt";
import { afterAll, describe, expect, it } from "vitest";
import { POST } from "@/app/api/activities/[id]/orders/route";
import { flash } from "@/lib/flash/instance";
import { buyRequest } from "@/lib/flash/schemas";
import { createActivity, createUsers, tokenFor } from "../support/flash";

// The Next.js door of POST /api/activities/{id}/orders (the hot server answers the same path in
// production; the e2e suite covers that door): same spec, same limit, same core.
afterAll(() => flash().close());

async function post(activityId: string, userId: string, body: BodyInit, headers: Record<string, string> = {}) {
  const session = await encode({
    token: { uid: userId, sub: userId, role: "SHOPPER" },
    secret: process.env.NEXTAUTH_SECRET!,
  });
  const req = new Request(`http://shop.test/api/activities/${activityId}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: `next-auth.session-token=${session}`, ...headers },
    body,
    duplex: "half",
  } as RequestInit);
  const res = await POST(req, { params: Promise.resolve({ id: activityId }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the route handler's buy door", () => {
  it("refuses an oversized body with 413 without reading it all, a bad one with 400, and admits a good one", async () => {
    const a = await createActivity({ stock: 1 });
    const [u] = await createUsers(1);
    const input = { quantity: 1, idempotencyKey: "route-key-1", token: tokenFor(a, u!) };

    // Declared too large: refused on the header alone.
    expect(await post(a.id, u!, JSON.stringify(input), { "content-length": String(buyRequest.maxBytes + 1) })).toEqual({
      status: 413,
      body: { code: "BAD_INPUT" },
    });

    // Streamed without a length: the handler stops pulling soon after the limit.
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024).fill(32));
        if (pulled === 1000) controller.close();
      },
    });
    expect((await post(a.id, u!, endless)).status).toBe(413);
    expect(pulled).toBeLessThan(20);

    expect(await post(a.id, u!, "{not json")).toEqual({ status: 400, body: { code: "BAD_INPUT" } });
    expect(await post(a.id, u!, JSON.stringify({ ...input, quantity: 0 }))).toEqual({
      status: 400,
      body: { code: "BAD_INPUT", fields: ["quantity"] },
    });
    expect(await post(a.id, u!, JSON.stringify(input))).toMatchObject({ status: 202, body: { sequence: 1 } });
  });
});
