"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useSession } from "next-auth/react";
import { startTransition, useActionState, useState, useSyncExternalStore, type FormEvent } from "react";
import { MESSAGES, type RefusalCode } from "@/lib/flash/codes";
import { formatMoney } from "@/lib/format";
import { aheadOf, type BuyAccepted, type Progress, type Refusal } from "@/lib/flash/wire";
import { fetchProgress, fetchTicket, postBuy, requestToken } from "@/components/flash/api";
import { BuyRefused, TicketStatus } from "@/components/flash/ticket-status";
import { formatCountdown, useServerNow } from "@/components/flash/use-server-clock";
import { HumanCheck, useGate } from "@/components/flash/human-check";

// The panel's words, in one place until the message catalogue arrives.
const TEXT = {
  buy: "Buy now",
  buying: "Buying…",
  soldOut: "Sold out",
  paused: "Paused",
  notStarted: "Not started",
  queued: "In the queue",
  bought: "Bought",
  ended: "Ended",
  endedNote: "This sale has ended.",
  cancelled: "Cancelled",
  cancelledNote: "This sale was cancelled; nothing was sold.",
  otherSales: "See the shop's other sales",
};

interface Props {
  activityId: string;
  /** The sale's status when the page was rendered; the live figures' status wins once they arrive. */
  status: string;
  slug: string;
  startAt: string;
  endAt: string;
  perUserLimit: number;
  sellable: number;
  salePrice: number;
  currency: string;
  /** The buy form's server action: the door when JavaScript does not run. */
  buyAction: (form: FormData) => Promise<void>;
}

type BuyState = BuyAccepted | { error: RefusalCode; retryAfter?: number } | null;

const noSubscription = () => () => {};

export function BuyPanel(p: Props) {
  const { status: auth } = useSession();
  const now = useServerNow();
  // False in the server's HTML (the same for everyone, and all a browser without JavaScript gets).
  const hydrated = useSyncExternalStore(noSubscription, () => true, () => false);
  const [ticket, setTicket] = useState<BuyAccepted | null>(null);
  const [retrying, setRetrying] = useState(false);
  const gate = useGate(p.activityId, auth === "authenticated");
  const progress = useQuery({
    queryKey: ["progress", p.activityId],
    queryFn: () => fetchProgress(p.activityId),
    // Shared by every shopper and cacheable for a second: the crowd costs the origin little.
    refetchInterval: (q) => (q.state.data?.soldOut && !ticket ? 5_000 : 1_000),
  });
  // The live times win over the static page's: an admin may start early or extend the end.
  const startMs = Date.parse(progress.data?.startAt ?? p.startAt);
  const endMs = Date.parse(progress.data?.endAt ?? p.endAt);

  const queryClient = useQueryClient();
  const refused = (r: Refusal): BuyState => {
    // The button turns off now, not at the next poll of the progress (which confirms or corrects it).
    if (r.code === "SOLD_OUT")
      queryClient.setQueryData<Progress | null>(["progress", p.activityId], (old) => old && { ...old, soldOut: true });
    return { error: r.code, retryAfter: r.retryAfter };
  };
  // With JavaScript the form goes to the hot route (POST /api/activities/{id}/orders), not the action.
  const [state, buy, pending] = useActionState<BuyState, FormData>(async (_prev, form) => {
    const onRetry = () => setRetrying(true);
    try {
      // Known sold out (the shared progress or an earlier answer): refused here, without a request.
      const t = await requestToken(p.activityId, { onRetry });
      if ("code" in t) return refused(t);
      // One key per click: a retry after a lost answer gets the first answer, never a second order.
      const idempotencyKey = crypto.randomUUID();
      const quantity = Number(form.get("quantity") ?? 1);
      const result = await postBuy(p.activityId, { quantity, idempotencyKey, token: t.token }, { onRetry });
      return "code" in result ? refused(result) : result;
    } finally {
      setRetrying(false);
    }
  }, null);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    startTransition(() => buy(form));
  };

  // The latest ticket stays on screen when a later attempt is refused.
  if (state && "ticketId" in state && state.ticketId !== ticket?.ticketId) setTicket(state);
  // The ticket's answer as LiveTicket fetched it (read from the shared cache, never fetched here).
  const own = useQuery({
    queryKey: ["ticket", ticket?.ticketId],
    queryFn: () => fetchTicket(ticket!.ticketId),
    enabled: false,
  });
  const ticketStatus = ticket ? (own.data?.status ?? "QUEUED") : null;
  // Queued or bought in this page's session: another click would only meet the limit.
  const holding = ticketStatus === "QUEUED" || ticketStatus === "CONFIRMED";

  const live = now >= startMs && now < endMs;
  const status = progress.data?.status ?? p.status;
  const cancelled = status === "CANCELLED";
  // Before hydration the clock is not read: only the rendered status can say "ended".
  const ended = !cancelled && (status === "ENDED" || (hydrated && now >= endMs));
  const soldOut = progress.data?.soldOut ?? false;
  const paused = progress.data?.paused ?? false;
  const stockLeft = progress.data?.stockLeft;
  // Without JavaScript nothing ticks or polls: the button stays on and the action answers.
  const disabled = hydrated && (!live || pending || holding || soldOut || paused || auth !== "authenticated");
  const label = !hydrated
    ? TEXT.buy
    : ticketStatus === "CONFIRMED" ? TEXT.bought
    : ticketStatus === "QUEUED" ? TEXT.queued
    : soldOut ? TEXT.soldOut : paused ? TEXT.paused : now < startMs ? TEXT.notStarted : pending ? TEXT.buying : TEXT.buy;

  return (
    <section className="buy-panel" aria-label="Buy" data-hydrated={hydrated || undefined}>
      <div>
        <span className="price">{formatMoney(p.salePrice, p.currency)}</span>
      </div>
      <StockLine stockLeft={stockLeft} sellable={p.sellable} soldOut={soldOut} />
      {cancelled || ended ? null : !hydrated ? null : now < startMs ? (
        <div>
          <div className="muted">Starts in</div>
          <div className="countdown" data-testid="countdown" aria-live="off">
            {formatCountdown(startMs - now)}
          </div>
        </div>
      ) : null}

      {gate.data?.required && !cancelled && !ended && <HumanCheck activityId={p.activityId} gate={gate.data} />}

      {cancelled || ended ? (
        // A closed sale has nothing to press: its state as text, and somewhere to go.
        <div data-testid="sale-closed">
          <p className="sale-state">{cancelled ? TEXT.cancelled : TEXT.ended}</p>
          <p className="muted">
            {cancelled ? TEXT.cancelledNote : TEXT.endedNote} <Link href="/">{TEXT.otherSales}</Link>
          </p>
        </div>
      ) : auth === "unauthenticated" ? (
        <Link className="btn primary big" href={`/sign-in?callbackUrl=/activities/${p.slug}`}>
          Sign in to buy
        </Link>
      ) : (
        <form action={p.buyAction} onSubmit={submit} className="buy-form">
          <input type="hidden" name="activityId" value={p.activityId} />
          <input type="hidden" name="slug" value={p.slug} />
          {p.perUserLimit > 1 ? (
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
          ) : (
            <input type="hidden" name="quantity" value="1" />
          )}
          <button type="submit" className="btn primary big" disabled={disabled} data-testid="buy-button">
            {label}
          </button>
          <p className="muted">Limit {p.perUserLimit} per person.</p>
        </form>
      )}

      <div aria-live="polite" data-testid="buy-status">
        {retrying && (
          <p className="alert info" data-testid="buy-retrying">
            The shop is busy; trying again…
          </p>
        )}
        {!retrying && state && "error" in state && <BuyRefused code={state.error} retryAfter={state.retryAfter} />}
        {!state && soldOut && !ticket && !cancelled && !ended && (
          <p className="alert" data-testid="sold-out-note">
            {MESSAGES.SOLD_OUT} <Link href="/">{TEXT.otherSales}</Link>
          </p>
        )}
        {/* Sold out is the final word: a pause on top of it changes nothing for the shopper. */}
        {paused && !soldOut && !cancelled && !ended && <p className="alert info">{MESSAGES.PAUSED}</p>}
        {progress.isError && !progress.data && (
          <p className="alert info" data-testid="progress-unavailable">
            Live figures are unavailable for a moment; trying again…
          </p>
        )}
        {ticket && <LiveTicket key={ticket.ticketId} ticket={ticket} progress={progress.data ?? null} />}
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
        {soldOut ? TEXT.soldOut : `${stockLeft} of ${sellable} left`}
      </p>
    </div>
  );
}

function LiveTicket({ ticket, progress }: { ticket: BuyAccepted; progress: Progress | null }) {
  // The position comes from the shared progress figures; the ticket itself is asked only once the queue reaches it.
  const derived = aheadOf(ticket.sequence, progress?.served ?? 0);
  const [ahead, setAhead] = useState(derived);
  if (derived < ahead) setAhead(derived); // only ever goes down, even if a refetch lands out of order
  const own = useQuery({
    queryKey: ["ticket", ticket.ticketId],
    queryFn: () => fetchTicket(ticket.ticketId),
    enabled: ahead === 0,
    refetchInterval: (q) => (q.state.data && q.state.data.status !== "QUEUED" ? false : 500),
  });
  const view = own.data && own.data.status !== "QUEUED" ? own.data : { status: "QUEUED" as const, sequence: ticket.sequence, ahead };
  return <TicketStatus view={view} />;
}
