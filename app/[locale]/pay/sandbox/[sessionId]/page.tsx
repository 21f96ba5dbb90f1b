import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getTranslations } from "next-intl/server";
import { getFormat } from "@/lib/i18n/server";
import { getCharge } from "@/lib/payments/sandbox/ledger";
import { settleSandboxCharge } from "./actions";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("pay"))("title") };
}

type Props = { params: Promise<{ sessionId: string }>; searchParams: Promise<{ delivery?: string }> };

// The sandbox provider's hosted pay page: it stands in for a real provider's checkout, offline.
export default async function SandboxPayPage({ params, searchParams }: Props) {
  const { sessionId } = await params;
  const { delivery } = await searchParams;
  const charge = /^sbx_cs_[A-Za-z0-9_-]{24}$/.test(sessionId) ? await getCharge(sessionId) : null;
  if (!charge) notFound();
  const [t, f] = await Promise.all([getTranslations("pay"), getFormat()]);
  const knob = delivery === "late" || delivery === "twice" || delivery === "never" ? delivery : undefined;
  return (
    <section className="card" style={{ maxWidth: 480, margin: "40px auto" }} aria-label={t("title")}>
      <p className="muted">{t("provider")}</p>
      <h1>{f.money(charge.amount, charge.currency)}</h1>
      <p className="muted">
        {t("reference")} <code>{charge.reference}</code>
      </p>
      {charge.status === "OPEN" ? (
        <form action={settleSandboxCharge} style={{ display: "flex", gap: 12 }}>
          <input type="hidden" name="sessionId" value={charge.id} />
          {knob && <input type="hidden" name="delivery" value={knob} />}
          <button type="submit" name="outcome" value="PAID" className="btn primary big" data-testid="sandbox-confirm">
            {t("pay", { amount: f.money(charge.amount, charge.currency) })}
          </button>
          <button type="submit" name="outcome" value="DECLINED" className="btn" data-testid="sandbox-decline">
            {t("decline")}
          </button>
        </form>
      ) : (
        <p className="alert info" data-testid="sandbox-settled">
          {t("settled", { status: charge.status.toLowerCase() })} <a href={charge.returnUrl}>{t("back")}</a>
        </p>
      )}
    </section>
  );
}
