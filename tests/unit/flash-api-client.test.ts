import { afterEach, describe, expect, it, vi } from "vitest";
import { fetchProgress, knownSoldOut, postBuy, requestToken, UnavailableError } from "@/components/flash/api";

const html502 = () =>
  new Response("<html><body>502 Bad Gateway</body></html>", { status: 502, headers: { "content-type": "text/html" } });
const json = (status: number, body: unknown) => Response.json(body, { status });

afterEach(() => vi.unstubAllGlobals());

describe("the browser's flash API helpers", () => {
  it("turn a proxy's HTML 502 into UNAVAILABLE rather than a JSON parse error", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => html502()),
    );
    await expect(fetchProgress("cabcdefgh12345")).rejects.toBeInstanceOf(UnavailableError);
    expect(await requestToken("cabcdefgh12345", { attempts: 1 })).toEqual({ code: "UNAVAILABLE" });
  });

  it("retry an unavailable answer and report each retry; a refusal from the shop is not retried", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(html502())
      .mockRejectedValueOnce(new TypeError("network"))
      .mockResolvedValueOnce(json(200, { token: "t" }));
    vi.stubGlobal("fetch", fetch);
    const onRetry = vi.fn();
    expect(await requestToken("cabcdefgh12345", { onRetry })).toEqual({ token: "t" });
    expect(onRetry.mock.calls).toEqual([[1], [2]]);

    const refused = vi.fn(async () => json(409, { code: "LIMIT_REACHED" }));
    vi.stubGlobal("fetch", refused);
    expect(await postBuy("cabcdefgh12345", { quantity: 1, idempotencyKey: "abcdefgh", token: "t" })).toEqual({
      code: "LIMIT_REACHED",
    });
    expect(refused).toHaveBeenCalledTimes(1);
  });

  it("fetch the shared progress without cookies, so a CDN may serve it to everyone", async () => {
    const fetch = vi.fn(async () => json(200, { activityId: "a" }));
    vi.stubGlobal("fetch", fetch);
    await fetchProgress("cabcdefgh12345");
    expect(fetch).toHaveBeenCalledWith("/api/activities/cabcdefgh12345/progress", { credentials: "omit" });
  });

  it("stop asking once the shared progress or the shop said sold out, and ask again when units come back", async () => {
    const id = "csoldout12345";
    const progress = (soldOut: boolean) => json(200, { activityId: id, soldOut, stockLeft: soldOut ? 0 : 1 });
    const fetch = vi.fn(async () => progress(true));
    vi.stubGlobal("fetch", fetch);
    await fetchProgress(id);
    expect(knownSoldOut(id)).toBe(true);
    fetch.mockClear();
    const input = { quantity: 1, idempotencyKey: "abcdefgh", token: "t" };
    expect(await requestToken(id)).toEqual({ code: "SOLD_OUT" });
    expect(await postBuy(id, input)).toEqual({ code: "SOLD_OUT" });
    expect(fetch).not.toHaveBeenCalled();

    fetch.mockImplementation(async () => progress(false));
    await fetchProgress(id);
    expect(knownSoldOut(id)).toBe(false);
    fetch.mockImplementation(async () => json(410, { code: "SOLD_OUT" }));
    expect(await postBuy(id, input)).toEqual({ code: "SOLD_OUT" });
    expect(fetch).toHaveBeenCalledTimes(2);
    // The shop's own SOLD_OUT answer counts too: the next click stays in the page.
    expect(await postBuy(id, input)).toEqual({ code: "SOLD_OUT" });
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});
