import "server-only";
import type { CaptchaProvider, CheckContext } from "@/lib/captcha/provider";
import { errorText, log } from "@/lib/log";

const logger = log.child({ component: "hcaptcha" });
const VERIFY_TIMEOUT_MS = 5_000;

export interface HCaptchaConfig {
  sitekey: string;
  secret: string;
  /** https://api.hcaptcha.com/siteverify, or a stand-in speaking the same protocol (tests, demos offline). */
  verifyUrl: string;
}

/** hCaptcha: the official widget in the browser, the token checked with its siteverify endpoint. */
export class HCaptchaProvider implements CaptchaProvider {
  readonly name = "hcaptcha" as const;

  constructor(private config: HCaptchaConfig) {}

  widget() {
    return { provider: this.name, sitekey: this.config.sitekey };
  }

  challenge(): Promise<null> {
    return Promise.resolve(null); // the widget fetches its own from hCaptcha
  }

  async verify(answer: string, ctx: CheckContext): Promise<boolean> {
    if (!answer || answer.length > 8192) return false;
    const form = new URLSearchParams({ secret: this.config.secret, response: answer, sitekey: this.config.sitekey });
    if (ctx.ip) form.set("remoteip", ctx.ip);
    try {
      const res = await fetch(this.config.verifyUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form,
        signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS),
      });
      if (!res.ok) {
        logger.error({ status: res.status }, "siteverify answered an error");
        return false;
      }
      const body = (await res.json()) as { success?: unknown; "error-codes"?: unknown };
      if (body.success !== true) logger.info({ errors: body["error-codes"] }, "hCaptcha answer refused");
      return body.success === true;
    } catch (e) {
      // Unreachable or slow siteverify: the shopper may try again; the pass is not given on doubt.
      logger.error({ err: errorText(e) }, "siteverify failed");
      return false;
    }
  }
}
