"use client";

import { useTranslations } from "next-intl";
import { countdownParts } from "@/components/flash/use-server-clock";

/** Time left as "hh:mm:ss", with the days worded in the page's language when there are any. */
export function Countdown({ ms }: { ms: number }) {
  const t = useTranslations("buy");
  const { days, time } = countdownParts(ms);
  return <>{days > 0 ? t("days", { days, time }) : time}</>;
}
