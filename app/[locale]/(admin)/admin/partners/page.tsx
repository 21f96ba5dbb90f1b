import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import { getFormat } from "@/lib/i18n/server";
import { requireAdmin } from "@/lib/auth/session";
import { listApiKeys } from "@/lib/admin/channels";
import { ApiKeyForm, RevokeKeyButton } from "@/components/admin/api-key-form";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("admin.titles"))("partners") };
}

export default async function PartnersPage() {
  await requireAdmin("/admin/partners");
  const [keys, t, f] = await Promise.all([listApiKeys(), getTranslations("admin.partners"), getFormat()]);
  return (
    <>
      <h1>{t("title")}</h1>
      <p className="muted">{t("intro")}</p>
      <ApiKeyForm />
      <table data-testid="api-keys">
        <thead>
          <tr>
            <th>{t("channel")}</th>
            <th>{t("label")}</th>
            <th>{t("prefix")}</th>
            <th>{t("created")}</th>
            <th>{t("state")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} data-key={k.prefix}>
              <td>{k.channel}</td>
              <td>{k.label}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{f.dateTime(k.createdAt)}</td>
              <td>{k.revokedAt ? t("revokedAt", { at: f.dateTime(k.revokedAt) }) : t("active")}</td>
              <td>{!k.revokedAt && <RevokeKeyButton id={k.id} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
