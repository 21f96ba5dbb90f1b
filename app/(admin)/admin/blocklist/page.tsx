import type { Metadata } from "next";
import { requireAdmin } from "@/lib/auth/session";
import { listBlocks } from "@/lib/gate/blocklist";
import { BlocklistForm, UnblockButton } from "@/components/admin/blocklist-form";
import { utc } from "@/components/admin/format";

export const metadata: Metadata = { title: "Blocklist · Admin" };

const KIND = { USER: "Account", IP: "Address", EMAIL_DOMAIN: "Email domain" } as const;

export default async function BlocklistPage() {
  await requireAdmin("/admin/blocklist");
  const entries = await listBlocks();
  return (
    <>
      <h1>Blocklist</h1>
      <p className="muted">
        Refused at the gate: no buy token, no order, no sign-up. Refusals appear on each sale&apos;s dashboard as BLOCKED.
        Changes reach every web process within 5 seconds.
      </p>
      <BlocklistForm />
      <table data-testid="blocklist">
        <thead>
          <tr>
            <th>What</th>
            <th>Value</th>
            <th>Note</th>
            <th>Since</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td>{KIND[e.kind]}</td>
              <td>{e.value}</td>
              <td>{e.note}</td>
              <td>{utc(e.createdAt)}</td>
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
