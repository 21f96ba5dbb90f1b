import type { Metadata } from "next";
import { Suspense } from "react";
import { SignUpForm } from "@/components/auth/sign-up-form";
import { AuthSwitchLink } from "@/components/auth/switch-link";

export const metadata: Metadata = { title: "Create an account" };

export default function SignUpPage() {
  return (
    <div className="card" style={{ maxWidth: 440, margin: "0 auto" }}>
      <h1>Create an account</h1>
      {/* The form reads ?callbackUrl (where to go once signed in); the rest of the page stays static. */}
      <Suspense>
        <SignUpForm />
      </Suspense>
      <p className="muted">
        Already have one?{" "}
        <Suspense fallback={<a href="/sign-in">Sign in</a>}>
          <AuthSwitchLink href="/sign-in">Sign in</AuthSwitchLink>
        </Suspense>
      </p>
    </div>
  );
}
