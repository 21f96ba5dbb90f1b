import type { Metadata } from "next";
import { Suspense } from "react";
import { SignInForm } from "@/components/auth/sign-in-form";
import { AuthSwitchLink } from "@/components/auth/switch-link";

export const metadata: Metadata = { title: "Sign in" };

export default function SignInPage() {
  return (
    <div className="card" style={{ maxWidth: 440, margin: "0 auto" }}>
      <h1>Sign in</h1>
      {/* The form reads ?callbackUrl; the rest of the page stays static. */}
      <Suspense>
        <SignInForm />
      </Suspense>
      <p className="muted">
        New here?{" "}
        <Suspense fallback={<a href="/sign-up">Create an account</a>}>
          <AuthSwitchLink href="/sign-up">Create an account</AuthSwitchLink>
        </Suspense>
      </p>
    </div>
  );
}
