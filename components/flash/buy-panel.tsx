"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSession } from "next-auth/react";
import { useActionState, useState } from "react";
import { MESSAGES, type RefusalCode } from "@/lib/flash/codes";
import { formatMoney } from "@/lib/format";
import { fetchProgress, fetchTicket, postBuy, requestToken, type Progress, type TicketView } from "@/components/flash/api";
import { formatCountdown, useServerNow } from "@/components/flash/use-server-clock";

interface Props {
  activityId: string;
  slug: string;
  startAt: string;
  endAt: string;
  perUserLimit: number;
  sellable: number;
  salePrice: number;
  currency: string;
}

type BuyState = { ticketId: string; sequence: number } | { error: RefusalCode } | null;

export function BuyPanel(p: Props) {
  const { status: auth } = useSession();
  const now = useServerNow();
  const [ticket, setTicket] = useState<{ ticketId: string; sequence: number } | null>(null);
  const progress = useQuery({
    queryKey: ["progress", p.activityId],
    queryFn: () => fetchProgress(p.activityId),
    // Shared by every shopper and cacheable for a second: the crowd costs the origin little.
    refetchInterval: (q) => (q.state.data?.soldOut && !ticket ? 5_000 : 1_000),
  });
  // The live times win over the static page's: an admin may start early or extend the end.
  const startMs = Date.parse(progress.data?.startAt ?? p.startAt);
  const endMs = Date.parse(progress.data?.endAt ?? p.endAt);

  const [state, buy, pending] = useActionState<BuyState, FormData>(async (_prev, form) => {
    const quantity = Number(form.get("quantity") ?? 1);
    const t = await requestToken(p.activityId);
    if ("code" in t) return { error: t.code };
    // One key per click: a retry after a lost answer gets the first answer, never a second order.
    const idempotencyKey = crypto.randomUUID();
    let result = await postBuy(p.activityId, { quantity, idempotencyKey, token: t.token }).catch(() => null);
    result ??= await postBuy(p.activityId, { quantity, idempotencyKey, token: t.token }).catch(() => ({ code: "UNAVAILABLE" as const }));
    return "code" in result ? { error: result.code } : result;
  }, null);

  // The latest ticket stays on screen when a later attempt is refused.
  if (state && "ticketId" in state && state.ticketId !== ticket?.ticketId) setTicket(state);

  const live = now >= startMs && now < endMs;
  const soldOut = progress.data?.soldOut ?? false;
  const paused = progress.data?.paused ?? false;
  const stockLeft = progress.data?.stockLeft;

  return (
    <section className="buy-panel" aria-label="Buy">
      <div>
        <span className="price">{formatMoney(p.salePrice, p.currency)}</span>
      </div>
      <StockLine stockLeft={stockLeft} sellable={p.sellable} soldOut={soldOut} />
      {now < startMs ? (
        <div>
          <div className="muted">Starts in</div>
          <div className="countdown" data-testid="countdown" aria-live="off">
            {formatCountdown(startMs - now)}
          </div>
        </div>
      ) : now >= endMs ? (
        <p className="alert info">This sale has ended.</p>
      ) : null}

      {auth === "unauthenticated" ? (
        <Link className="btn primary big" href={`/sign-in?callbackUrl=/activities/${p.slug}`}>
          Sign in to buy
        </Link>
      ) : (
        <form action={buy} className="buy-form">
          {p.perUserLimit > 1 && (
            <label style={{ maxWidth: 160 }}>
              Quantity
              <select name="quantity" defaultValue="1">
                {Array.from({ length: p.perUserLimit }, (_, i) => (
                  <option key={i + 1} value={i + 1}>
                    {i + 1}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button
            type="submit"
            className="btn primary big"
            disabled={!live || pending || soldOut || paused || auth !== "authenticated"}
            data-testid="buy-button"
          >
            {soldOut ? "Sold out" : paused ? "Paused" : now < startMs ? "Not started" : pending ? "Buying…" : "Buy now"}
          </button>
          <p className="muted">Limit {p.perUserLimit} per person.</p>
        </form>
      )}

      <div aria-live="polite" data-testid="buy-status">
        {state && "error" in state && <p className="alert">{MESSAGES[state.error]}</p>}
        {!state && soldOut && !ticket && <p className="alert">{MESSAGES.SOLD_OUT}</p>}
        {paused && <p className="alert info">{MESSAGES.PAUSED}</p>}
        {ticket && <TicketStatus key={ticket.ticketId} ticket={ticket} progress={progress.data ?? null} />}
      </div>
    </section>
  );
}

function StockLine({ stockLeft, sellable, soldOut }: { stockLeft?: number; sellable: number; soldOut: boolean }) {
  if (stockLeft === undefined) return <p className="muted">{sellable} units in this sale</p>;
  const pct = sellable > 0 ? Math.min(100, Math.round((stockLeft / sellable) * 100)) : 0;
  return (
    <div>
      <div className="stock-bar" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </div>
      <p className="muted" data-testid="stock-left">
        {soldOut ? "Sold out" : `${stockLeft} of ${sellable} left`}
      </p>
    </div>
  );
}

function TicketStatus({ ticket, progress }: { ticket: { ticketId: string; sequence: number }; progress: Progress | null }) {
  // The position comes from the shared progress figures; the ticket itself is asked only once the queue reaches it.
  const derived = Math.max(0, ticket.sequence - (progress?.served ?? 0) - 1);
  const [ahead, setAhead] = useState(derived);
  if (derived < ahead) setAhead(derived); // only ever goes down, even if a refetch lands out of order
  const own = useQuery({
    queryKey: ["ticket", ticket.ticketId],
    queryFn: () => fetchTicket(ticket.ticketId),
    enabled: ahead === 0,
    refetchInterval: (q) => (q.state.data && q.state.data.status !== "QUEUED" ? false : 500),
  });
  const view: TicketView | null | undefined = own.data;

  if (view?.status === "CONFIRMED") {
    return (
      <div className="alert ok" data-testid="ticket-confirmed">
        <strong>Order confirmed.</strong>{" "}
        {view.payBy && <>Please pay by {new Date(view.payBy).toLocaleTimeString()}. </>}
        <Link className="btn primary small" href={`/orders/${view.orderId}`} data-testid="pay-now">
          Pay now
        </Link>
      </div>
    );
  }
  if (view?.status === "REJECTED") {
    return <p className="alert" data-testid="ticket-rejected">{MESSAGES[view.code] ?? MESSAGES.SOLD_OUT}</p>;
  }
  return (
    <p className="alert info" data-testid="ticket-queued">
      You are in the queue (#{ticket.sequence}).{" "}
      {ahead > 0 ? (
        <strong data-testid="ahead">{ahead} people ahead of you</strong>
      ) : (
        <strong>Your order is being confirmed…</strong>
      )}
    </p>
  );
}
