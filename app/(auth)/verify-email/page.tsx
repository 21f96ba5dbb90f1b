import type { Metadata } from "next";
import Link from "next/link";
import { verifyEmail } from "@/lib/auth/email-verification";

export const metadata: Metadata = { title: "Confirm your email" };

type Props = { searchParams: Promise<{ token?: string | string[] }> };

// The link mailed at sign-up lands here. Confirming is idempotent, so a second click says the same.
export default async function VerifyEmailPage({ searchParams }: Props) {
  const raw = (await searchParams).token;
  const result = await verifyEmail(typeof raw === "string" ? raw : "");
  return (
    <div className="card" style={{ maxWidth: 440, margin: "0 auto" }}>
      <h1>Confirm your email</h1>
      <div data-testid="verify-result">
        {result.ok ? (
          <p className="alert ok">
            Your email is confirmed. <Link href="/sign-in">Sign in again</Link> to buy in the sales.
          </p>
        ) : result.code === "EXPIRED" ? (
          <p className="alert">This link has expired. Sign in and ask for a new one.</p>
        ) : (
          <p className="alert">This link is not valid.</p>
        )}
      </div>
    </div>
  );
}
