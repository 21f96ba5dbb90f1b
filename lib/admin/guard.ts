import "server-only";
import { currentUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { gate } from "@/lib/gate";
import type { AdminFailure } from "@/lib/admin/results";

export interface AdminUser {
  id: string;
  email: string;
}

/**
 * The signed-in admin, checked on the server for every admin action and API call. The session's
 * role is checked first (cheap), then the database, so an admin who was demoted loses access at
 * once instead of when the session token expires.
 */
export async function currentAdmin(): Promise<{ ok: true; admin: AdminUser } | AdminFailure> {
  const user = await currentUser();
  if (!user?.id) return { ok: false, code: "UNAUTHENTICATED" };
  if (user.role !== "ADMIN") return { ok: false, code: "FORBIDDEN" };
  const row = await db().user.findUnique({ where: { id: user.id }, select: { id: true, email: true, role: true } });
  if (!row || row.role !== "ADMIN") return { ok: false, code: "FORBIDDEN" };
  return { ok: true, admin: { id: row.id, email: row.email } };
}

/** Admin writes are rate limited per admin: a stolen session cannot rewrite the catalogue in a loop. */
export async function adminWriteAllowed(admin: AdminUser): Promise<{ ok: true } | (AdminFailure & { retryAfterS: number })> {
  const verdict = await gate().limits.adminWrite(admin.id);
  if (verdict.ok) return verdict;
  return { ok: false, code: "RATE_LIMITED", message: `Too many changes, retry in ${verdict.retryAfterS} s.`, retryAfterS: verdict.retryAfterS };
}
