import type { Metadata } from "next";
import { requireAdmin } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Admin" };

export default async function AdminHome() {
  const admin = await requireAdmin();
  return (
    <>
      <h1>Admin console</h1>
      <p className="muted">Signed in as {admin.email}.</p>
    </>
  );
}
