import type { Metadata } from "next";
import Link from "next/link";
import { SignInForm } from "@/components/auth/sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

export default function SignInPage() {
  return (
    <div className="card" style={{ maxWidth: 440, margin: "0 auto" }}>
      <h1>Sign in</h1>
      <SignInForm />
      <p className="muted">
        New here? <Link href="/sign-up">Create an account</Link>
      </p>
    </div>
  );
}
