import "server-only";
import nodemailer, { type Transporter } from "nodemailer";
import { env } from "@/lib/env";
import { log } from "@/lib/log";

const logger = log.child({ component: "mail" });
const globalForMail = globalThis as unknown as { mailer?: Transporter };

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends through SMTP_URL. Without one, development logs the message (a demo with no sink running);
 * production logs only that it was dropped, since the text carries single-use links.
 */
export async function sendMail(mail: Mail): Promise<void> {
  const { SMTP_URL, MAIL_FROM, NODE_ENV } = env();
  if (!SMTP_URL) {
    const text = NODE_ENV === "production" ? undefined : mail.text;
    logger.warn({ to: mail.to, subject: mail.subject, text }, "mail not sent (SMTP_URL unset)");
    return;
  }
  globalForMail.mailer ??= nodemailer.createTransport(SMTP_URL);
  await globalForMail.mailer.sendMail({ from: MAIL_FROM, ...mail });
}
