import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { formatMoney } from "@/lib/format";
import { getCharge } from "@/lib/payments/sandbox/ledger";
import { settleSandboxCharge } from "./actions";

export const metadata: Metadata = { title: "Sandbox payment" };

type Props = { params: Promise<{ sessionId: string }>; searchParams: Promise<{ delivery?: string }> };

// The sandbox provider's hosted pay page: it stands in for a real provider's checkout, offline.
export default async function SandboxPayPage({ params, searchParams }: Props) {
  const { sessionId } = await params;
  const { delivery } = await searchParams;
  const charge = /^sbx_cs_[A-Za-z0-9_-]{24}$/.test(sessionId) ? await getCharge(sessionId) : null;
  if (!charge) notFound();
  const knob = delivery === "late" || delivery === "twice" || delivery === "never" ? delivery : undefined;
  return (
    <section className="card" style={{ maxWidth: 480, margin: "40px auto" }} aria-label="Sandbox payment">
      <p className="muted">Sandbox payment provider · test mode, no real money</p>
      <h1>{formatMoney(charge.amount, charge.currency)}</h1>
      <p className="muted">
        Merchant reference <code>{charge.reference}</code>
      </p>
      {charge.status === "OPEN" ? (
        <form action={settleSandboxCharge} style={{ display: "flex", gap: 12 }}>
          <input type="hidden" name="sessionId" value={charge.id} />
          {knob && <input type="hidden" name="delivery" value={knob} />}
          <button type="submit" name="outcome" value="PAID" className="btn primary big" data-testid="sandbox-confirm">
            Pay {formatMoney(charge.amount, charge.currency)}
          </button>
          <button type="submit" name="outcome" value="DECLINED" className="btn" data-testid="sandbox-decline">
            Decline
          </button>
        </form>
      ) : (
        <p className="alert info" data-testid="sandbox-settled">
          This payment is {charge.status.toLowerCase()}. <a href={charge.returnUrl}>Back to the shop</a>
        </p>
      )}
    </section>
  );
}
