import Link from "next/link";
import { MESSAGES, rejectionMessage, type RefusalCode } from "@/lib/flash/codes";
import type { TicketView } from "@/lib/flash/wire";

/**
 * What a shopper sees of a ticket or a refused buy, the same with JavaScript (the buy panel) and
 * without it (the result page the buy form's server action redirects to).
 */
export function TicketStatus({ view }: { view: TicketView }) {
  if (view.status === "CONFIRMED") {
    return (
      <div className="alert ok" data-testid="ticket-confirmed" data-order-id={view.orderId}>
        <strong>Order confirmed.</strong>{" "}
        {view.payBy && (
          <>
            Please pay by <time dateTime={view.payBy}>{new Date(view.payBy).toLocaleTimeString()}</time>.{" "}
          </>
        )}
        <Link className="btn primary small" href={`/orders/${view.orderId}`} data-testid="pay-now">
          Pay now
        </Link>
      </div>
    );
  }
  if (view.status === "REJECTED") {
    return (
      <p className="alert" data-testid="ticket-rejected" data-code={view.code}>
        {rejectionMessage(view.code)}
      </p>
    );
  }
  return (
    <p className="alert info" data-testid="ticket-queued">
      You are in the queue (#{view.sequence}).{" "}
      {view.ahead > 0 ? (
        <strong data-testid="ahead">{view.ahead} people ahead of you</strong>
      ) : (
        <strong>Your order is being confirmed…</strong>
      )}
    </p>
  );
}

/** A refused buy; RATE_LIMITED says how long to wait when the server told (Retry-After). */
export function BuyRefused({ code, retryAfter }: { code: RefusalCode; retryAfter?: number }) {
  return (
    <p className="alert" data-testid="buy-refused" data-code={code}>
      {code === "RATE_LIMITED" && retryAfter ? `Too many attempts, retry in ${retryAfter} s.` : MESSAGES[code]}
    </p>
  );
}
