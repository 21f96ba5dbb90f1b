import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { env } from "@/lib/env";
import { RATE_LIMITED_ERROR } from "@/lib/auth/errors";
import { signInSchema } from "@/lib/auth/schemas";
import { signInWithLimits } from "@/lib/auth/sign-in";
import { gate } from "@/lib/gate";
import { CLIENT_IP_HEADER } from "@/lib/http/front-door";
import { safeRedirectUrl } from "@/lib/http/safe-redirect";

export const SESSION_MAX_AGE = 7 * 24 * 3600;

export function authOptions(): NextAuthOptions {
  return {
    secret: env().NEXTAUTH_SECRET,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE },
    pages: { signIn: "/sign-in" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
        },
        async authorize(credentials, req) {
          const parsed = signInSchema.safeParse(credentials);
          if (!parsed.success) return null;
          const ip = req.headers?.[CLIENT_IP_HEADER] as string | undefined;
          const result = await signInWithLimits(gate().limits, parsed.data.email, parsed.data.password, ip);
          // next-auth passes a thrown message to the form as `error`: the wait, never a reason.
          if (!result.ok && result.code === "RATE_LIMITED") throw new Error(`${RATE_LIMITED_ERROR}${result.retryAfterS}`);
          if (!result.ok) return null;
          const { user } = result;
          return { id: user.id, email: user.email, name: user.name, role: user.role, verified: user.verified };
        },
      }),
    ],
    callbacks: {
      // Every redirect next-auth makes (callbackUrl included) stays on this site.
      redirect: ({ url, baseUrl }) => safeRedirectUrl(url, baseUrl),
      jwt({ token, user }) {
        if (user) {
          token.uid = user.id;
          token.role = user.role;
          token.verified = user.verified;
        }
        return token;
      },
      session({ session, token }) {
        session.user = { ...session.user, id: token.uid, role: token.role };
        return session;
      },
    },
  };
}
