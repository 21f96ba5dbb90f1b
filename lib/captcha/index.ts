import "server-only";
import { AltchaProvider } from "@/lib/captcha/altcha";
import { HCaptchaProvider } from "@/lib/captcha/hcaptcha";
import type { CaptchaProvider } from "@/lib/captcha/provider";
import type { Env } from "@/lib/env";

/** The human check named by CAPTCHA_PROVIDER ("altcha" by default). */
export function captchaProvider(e: Env): CaptchaProvider {
  if (e.CAPTCHA_PROVIDER === "hcaptcha") {
    return new HCaptchaProvider({ sitekey: e.HCAPTCHA_SITEKEY, secret: e.HCAPTCHA_SECRET, verifyUrl: e.HCAPTCHA_VERIFY_URL });
  }
  return new AltchaProvider(e.FLASH_TOKEN_SECRET);
}
