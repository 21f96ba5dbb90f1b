"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useSession } from "next-auth/react";
import { useTranslations } from "next-intl";
import { startTransition, useActionState, useCallback, useEffect, useState, useSyncExternalStore, type FormEvent } from "react";
import type { RefusalCode } from "@/lib/flash/codes";
import { aheadOf, type BuyAccepted, type Progress, type Refusal, type TicketView } from "@/lib/flash/wire";
import { fetchProgress, fetchTicket, postBuy, requestToken } from "@/components/flash/api";
import { BuyRefused, TicketStatus } from "@/components/flash/ticket-status";
import { useServerNow } from "@/components/flash/use-server-clock";
import { Countdown } from "@/components/flash/countdown";
import { useFormat } from "@/components/i18n/format";
import { HumanCheck, useGate } from "@/components/flash/human-check";
import { PrequeuePanel } from "@/components/flash/prequeue";
import { PresalePanel, type PresaleTerms } from "@/components/flash/presale";
import { WaitlistPanel } from "@/components/flash/waitlist";
import { OfflineNote, WhyNot, currentTicket, meQueryKey, useOnline, useShopperState } from "@/components/flash/shopper-state";

interface Props {
  activityId: string;
  /** The sale's status when the page was rendered; the live figures' status wins once they arrive. */
  status: string;
  slug: string;
  startAt: string;
  endAt: string;
  perUserLimit: number;
  /** Fair entry: minutes of pre-queue before the start (0: none). */
  prequeueMinutes: number;
  /** Pre-sale: its deposit and window (null: none). */
  presale?: PresaleTerms | null;
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
  const t = useTranslations("buy");
  const f = useFormat();
  const now = useServerNow();
  // False in the server's HTML (the same for everyone, and all a browser without JavaScript gets).
  const hydrated = useSyncExternalStore(noSubscription, () => true, () => false);
  const [ticket, setTicket] = useState<BuyAccepted | null>(null);
  const [retrying, setRetrying] = useState(false);
  const queryClient = useQueryClient();
  const signedIn = auth === "authenticated";
  const online = useOnline();
  const gate = useGate(p.activityId, signedIn);
  // The shopper's tickets as the server has them: a reload, another tab or device shows the same.
  const me = useShopperState(p.activityId, signedIn);
  const progressKey = ["progress", p.activityId];
  const refreshMe = useCallback(() => void queryClient.invalidateQueries({ queryKey: meQueryKey(p.activityId) }), [queryClient, p.activityId]);
  const progress = useQuery({
    queryKey: progressKey,
    queryFn: () => fetchProgress(p.activityId),
    // Shared by every shopper and cacheable for a second: the crowd costs the origin little.
    refetchInterval: (q) => (q.state.data?.soldOut && !ticket ? 5_000 : 1_000),
  });
  // The live times win over the static page's: an admin may start early or extend the end.
  const startMs = Date.parse(progress.data?.startAt ?? p.startAt);
  const endMs = Date.parse(progress.data?.endAt ?? p.endAt);

  const refused = (r: Refusal): BuyState => {
    // The button turns off now, not at the next poll of the progress (which confirms or corrects it).
    if (r.code === "SOLD_OUT")
      queryClient.setQueryData<Progress | null>(progressKey, (old) => old && { ...old, soldOut: true });
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
      // Whatever the answer, the shopper's own state has news (a ticket, a trace).
      refreshMe();
    }
  }, null);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    startTransition(() => buy(form));
  };

  // The latest ticket stays on screen when a later attempt is refused.
  if (state && "ticketId" in state && state.ticketId !== ticket?.ticketId) setTicket(state);
  // This page's buy until the server's list has it, then the server's choice (currentTicket).
  const restored = currentTicket(me.data);
  const shown = ticket && !me.data?.tickets.some((x) => x.ticketId === ticket.ticketId) ? ticket : restored;
  // The ticket's answer as LiveTicket fetched it (read from the shared cache, never fetched here).
  const own = useQuery({
    queryKey: ["ticket", shown?.ticketId],
    queryFn: () => fetchTicket(shown!.ticketId),
    enabled: false,
  });
  const ticketStatus = shown ? (own.data?.status ?? ("status" in shown ? shown.status : "QUEUED")) : null;
  const queued = ticketStatus === "QUEUED";
  // Units held against the limit: the server's count, or at least this page's ticket.
  const held = Math.max(me.data?.held ?? 0, queued || ticketStatus === "CONFIRMED" ? 1 : 0);
  const limitReached = held >= p.perUserLimit;
  const orderId = own.data?.status === "CONFIRMED" ? own.data.orderId : restored?.status === "CONFIRMED" ? restored.orderId : null;

  const live = now >= startMs && now < endMs;
  const status = progress.data?.status ?? p.status;
  const cancelled = status === "CANCELLED";
  // Before hydration the clock is not read: only the rendered status can say "ended".
  const ended = !cancelled && (status === "ENDED" || (hydrated && now >= endMs));
  const soldOut = progress.data?.soldOut ?? false;
  const paused = progress.data?.paused ?? false;
  const stockLeft = progress.data?.stockLeft;
  // Without JavaScript nothing ticks or polls: the button stays on and the action answers.
  const disabled = hydrated && (!live || pending || queued || limitReached || soldOut || paused || !signedIn);
  const label = t(
    !hydrated
      ? "buy"
      : queued ? "queued"
      : limitReached ? "bought"
      : soldOut ? "soldOut" : paused ? "paused" : now < startMs ? "notStarted" : pending ? "buying" : "buy",
  );

  return (
    <section className="buy-panel" aria-label={t("panel")} data-hydrated={hydrated || undefined}>
      <div>
        <span className="price">{f.money(p.salePrice, p.currency)}</span>
      </div>
      <StockLine stockLeft={stockLeft} sellable={p.sellable} soldOut={soldOut} />
      {cancelled || ended ? null : !hydrated ? null : now < startMs ? (
        <div>
          <div className="muted">{t("startsIn")}</div>
          <div className="countdown" data-testid="countdown" aria-live="off">
            <Countdown ms={startMs - now} />
          </div>
        </div>
      ) : null}

      {gate.data?.required && !cancelled && !ended && <HumanCheck activityId={p.activityId} gate={gate.data} />}
      {p.presale && hydrated && !cancelled && !ended && (
        <PresalePanel activityId={p.activityId} terms={p.presale} signedIn={signedIn} salePrice={p.salePrice} currency={p.currency} now={now} startMs={startMs} />
      )}
      {p.prequeueMinutes > 0 && signedIn && hydrated && !cancelled && !ended && (
        <PrequeuePanel activityId={p.activityId} slug={p.slug} now={now} startMs={startMs} />
      )}

      {cancelled || ended ? (
        // A closed sale has nothing to press: its state as text, and somewhere to go.
        <div data-testid="sale-closed">
          <p className="sale-state">{t(cancelled ? "cancelled" : "ended")}</p>
          <p className="muted">
            {t(cancelled ? "cancelledNote" : "endedNote")} <Link href="/">{t("otherSales")}</Link>
          </p>
        </div>
      ) : auth === "unauthenticated" ? (
        <Link className="btn primary big" href={`/sign-in?callbackUrl=/activities/${p.slug}`}>
          {t("signInToBuy")}
        </Link>
      ) : (
        <form action={p.buyAction} onSubmit={submit} className="buy-form">
          <input type="hidden" name="activityId" value={p.activityId} />
          <input type="hidden" name="slug" value={p.slug} />
          {p.perUserLimit > 1 ? (
            <label style={{ maxWidth: 160 }}>
              {t("quantity")}
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
          <button
            type="submit"
            className="btn primary big"
            disabled={disabled}
            data-testid="buy-button"
            data-state={hydrated ? (queued ? "queued" : limitReached ? "bought" : soldOut ? "sold-out" : undefined) : undefined}
          >
            {label}
          </button>
          {hydrated && limitReached && !queued && (
            <Link href={orderId ? `/orders/${orderId}` : "/orders"} className="bought-link" data-testid="bought-link">
              {t("shopper.viewOrder")}
            </Link>
          )}
          <p className="muted">{t("limit", { limit: p.perUserLimit })}</p>
        </form>
      )}

      <div aria-live="polite" data-testid="buy-status">
        {retrying && (
          <p className="alert info" data-testid="buy-retrying">
            {t("retrying")}
          </p>
        )}
        {!retrying && state && "error" in state && <BuyRefused code={state.error} retryAfter={state.retryAfter} />}
        {signedIn && hydrated && live && !queued && !limitReached && !cancelled && !ended && (
          <WaitlistPanel activityId={p.activityId} soldOut={soldOut} now={now} />
        )}
        {!state && soldOut && !shown && !cancelled && !ended && (
          <p className="alert" data-testid="sold-out-note">
            {t("refusal.SOLD_OUT")} <Link href="/">{t("otherSales")}</Link>
          </p>
        )}
        {/* Sold out is the final word: a pause on top of it changes nothing for the shopper. */}
        {paused && !soldOut && !cancelled && !ended && <p className="alert info">{t("refusal.PAUSED")}</p>}
        {progress.isError && !progress.data && (
          <p className="alert info" data-testid="progress-unavailable">
            {t("progressUnavailable")}
          </p>
        )}
        {hydrated && (!online || (progress.failureCount > 0 && progress.data)) && <OfflineNote />}
        {shown && <LiveTicket key={shown.ticketId} ticket={shown} progress={progress.data ?? null} onFinal={refreshMe} />}
        {me.data?.trace && (soldOut || ended || cancelled) && !queued && ticketStatus !== "CONFIRMED" && (
          <WhyNot trace={me.data.trace} rejectedCode={shown === restored && restored?.status === "REJECTED" ? restored.code : undefined} />
        )}
      </div>
    </section>
  );
}

function StockLine({ stockLeft, sellable, soldOut }: { stockLeft?: number; sellable: number; soldOut: boolean }) {
  const t = useTranslations("buy");
  if (stockLeft === undefined) return <p className="muted">{t("units", { count: sellable })}</p>;
  const pct = sellable > 0 ? Math.min(100, Math.round((stockLeft / sellable) * 100)) : 0;
  return (
    <div>
      <div className="stock-bar" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </div>
      <p className="muted" data-testid="stock-left">
        {soldOut ? t("soldOut") : t("left", { left: stockLeft, total: sellable })}
      </p>
    </div>
  );
}

/**
 * A ticket bought in this page, or restored from the server (then with its view: a final one is
 * shown as is). A queued ticket's place comes from the shared progress figures; the ticket itself
 * is asked only once the queue reaches it, and `onFinal` hears when it is answered.
 */
function LiveTicket({
  ticket,
  progress,
  onFinal,
}: {
  ticket: BuyAccepted | (TicketView & { ticketId: string });
  progress: Progress | null;
  onFinal: () => void;
}) {
  const restoredFinal = "status" in ticket && ticket.status !== "QUEUED" ? ticket : undefined;
  let derived = aheadOf(ticket.sequence, progress?.served ?? 0);
  if ("ahead" in ticket) derived = Math.min(derived, ticket.ahead);
  const [ahead, setAhead] = useState(derived);
  if (derived < ahead) setAhead(derived); // only ever goes down, even if a refetch lands out of order
  const own = useQuery({
    queryKey: ["ticket", ticket.ticketId],
    queryFn: () => fetchTicket(ticket.ticketId),
    enabled: ahead === 0 && !restoredFinal,
    refetchInterval: (q) => (q.state.data && q.state.data.status !== "QUEUED" ? false : 500),
  });
  const answeredHere = Boolean(own.data && own.data.status !== "QUEUED");
  useEffect(() => {
    if (answeredHere) onFinal();
  }, [answeredHere, onFinal]);
  const answered = own.data && own.data.status !== "QUEUED" ? own.data : restoredFinal;
  return <TicketStatus view={answered ?? { status: "QUEUED", sequence: ticket.sequence, ahead }} />;
}
