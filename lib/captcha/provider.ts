/** What the browser needs to show the human check of one sale. */
export type WidgetConfig =
  | { provider: "altcha"; challengeUrl: string }
  | { provider: "hcaptcha"; sitekey: string };

export interface CheckContext {
  activityId: string;
  userId: string;
  ip?: string | null;
}

/** A human check, chosen by CAPTCHA_PROVIDER: the gate only needs these two calls. */
export interface CaptchaProvider {
  readonly name: WidgetConfig["provider"];
  widget(activityId: string): WidgetConfig;
  /** A fresh challenge for this user and sale (ALTCHA); null if the provider serves its own. */
  challenge(ctx: CheckContext & { difficulty: number }): Promise<unknown>;
  /** Was the widget's answer solved by this user for this sale? Never throws for a bad answer. */
  verify(answer: string, ctx: CheckContext): Promise<boolean>;
}
