import "server-only";
import { hkdfSync } from "node:crypto";
import { createChallenge, randomInt, verifySolution, type Challenge, type Solution } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/pbkdf2";
import type { CaptchaProvider, CheckContext } from "@/lib/captcha/provider";
import { errorText, log } from "@/lib/log";

const ALGORITHM = "PBKDF2/SHA-256";
/** PBKDF2 iterations per attempt; the sale's difficulty sets how many attempts. */
const COST = 1_000;
const CHALLENGE_TTL_S = 600;
const logger = log.child({ component: "altcha" });

/**
 * Self-hosted proof of work (ALTCHA): no third party, no tracking, works offline. The challenge is
 * signed and carries the user and the sale, so a solution is worth a pass only to whom it was set.
 */
export class AltchaProvider implements CaptchaProvider {
  readonly name = "altcha" as const;
  private signatureSecret: string;
  private keySecret: string;

  constructor(secret: string) {
    const derive = (info: string) => Buffer.from(hkdfSync("sha256", secret, "", info, 32)).toString("hex");
    this.signatureSecret = derive("altcha challenge signature");
    this.keySecret = derive("altcha key signature");
  }

  widget(activityId: string) {
    return { provider: this.name, challengeUrl: `/api/activities/${activityId}/gate/challenge` };
  }

  challenge(ctx: CheckContext & { difficulty: number }): Promise<Challenge> {
    return createChallenge({
      algorithm: ALGORITHM,
      cost: COST,
      // Deterministic mode: the server knows the answer's key prefix, so verifying costs one derivation.
      counter: randomInt(ctx.difficulty, Math.max(1, Math.floor(ctx.difficulty / 2))),
      deriveKey,
      hmacSignatureSecret: this.signatureSecret,
      hmacKeySignatureSecret: this.keySecret,
      data: { activityId: ctx.activityId, userId: ctx.userId },
      expiresAt: Math.floor(Date.now() / 1000) + CHALLENGE_TTL_S,
    });
  }

  async verify(answer: string, ctx: CheckContext): Promise<boolean> {
    const payload = parsePayload(answer);
    if (!payload) return false;
    const data = payload.challenge.parameters?.data as Record<string, unknown> | undefined;
    if (data?.activityId !== ctx.activityId || data?.userId !== ctx.userId) return false;
    const result = await verifySolution({
      challenge: payload.challenge,
      solution: payload.solution,
      deriveKey,
      hmacSignatureSecret: this.signatureSecret,
      hmacKeySignatureSecret: this.keySecret,
    }).catch((e: unknown) => {
      logger.warn({ err: errorText(e) }, "malformed ALTCHA solution");
      return null;
    });
    return result?.verified === true;
  }
}

/** The widget's answer: base64 of {"challenge": …, "solution": …}. */
function parsePayload(answer: string): { challenge: Challenge; solution: Solution } | null {
  if (answer.length > 8192 || !/^[A-Za-z0-9+/=]+$/.test(answer)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(answer, "base64").toString("utf8"));
  } catch {
    return null; // not JSON: a wrong answer, refused by the caller
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const p = parsed as { challenge?: unknown; solution?: unknown };
  if (typeof p.challenge !== "object" || p.challenge === null || typeof p.solution !== "object" || p.solution === null) return null;
  return p as { challenge: Challenge; solution: Solution };
}
