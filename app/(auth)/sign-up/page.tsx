import type { Metadata } from "next";
import Link from "next/link";
import { SignUpForm } from "@/components/auth/sign-up-form";

export const metadata: Metadata = { title: "Create an account" };

export default function SignUpPage() {
  return (
    <div className="card" style={{ maxWidth: 440, margin: "0 auto" }}>
      <h1>Create an account</h1>
      <SignUpForm />
      <p className="muted">
        Already have one? <Link href="/sign-in">Sign in</Link>
      </p>
    </div>
  );
}
