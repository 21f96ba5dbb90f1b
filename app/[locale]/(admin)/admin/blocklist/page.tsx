import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import { getFormat } from "@/lib/i18n/server";
import { requireAdmin } from "@/lib/auth/session";
import { listBlocks } from "@/lib/gate/blocklist";
import { BlocklistForm, UnblockButton } from "@/components/admin/blocklist-form";

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("admin.titles"))("blocklist") };
}


export default async function BlocklistPage() {
  await requireAdmin("/admin/blocklist");
  const [entries, t, f] = await Promise.all([listBlocks(), getTranslations("admin.blocklist"), getFormat()]);
  return (
    <>
      <h1>{t("title")}</h1>
      <p className="muted">{t("intro")}</p>
      <BlocklistForm />
      <table data-testid="blocklist">
        <thead>
          <tr>
            <th>{t("what")}</th>
            <th>{t("value")}</th>
            <th>{t("note")}</th>
            <th>{t("since")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td>{t(`kind.${e.kind}`)}</td>
              <td>{e.value}</td>
              <td>{e.note}</td>
              <td>{f.dateTime(e.createdAt)}</td>
              <td>
                <UnblockButton id={e.id} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
