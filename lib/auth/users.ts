import "server-only";
import { db } from "@/lib/db";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import type { Role } from "@/lib/generated/prisma/enums";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** The email was confirmed through the mailed link. */
  verified: boolean;
}

// Compared against when the email is unknown, so sign-in takes as long either way.
const DUMMY_HASH = "$2b$10$XzRMQlgrsEVf7F.OGrs6QO3sNda36isdusnICrGqqOtJtCglu46wa";

export async function authenticate(email: string, password: string): Promise<SessionUser | null> {
  const user = await db().user.findUnique({ where: { email } });
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role, verified: user.emailVerifiedAt !== null };
}

export type SignUpResult = { ok: true; user: SessionUser } | { ok: false; code: "EMAIL_TAKEN" };

export async function createShopper(input: { name: string; email: string; password: string }): Promise<SignUpResult> {
  const passwordHash = await hashPassword(input.password);
  try {
    const user = await db().user.create({
      data: { name: input.name, email: input.email, passwordHash, role: "SHOPPER" },
    });
    return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role, verified: false } };
  } catch (e) {
    if (isUniqueViolation(e)) return { ok: false, code: "EMAIL_TAKEN" };
    throw e;
  }
}

export function isUniqueViolation(e: unknown): boolean {
  return typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "P2002";
}
