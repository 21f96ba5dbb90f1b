"use client";

import { useTranslations } from "next-intl";
import { createApiKeyAction, revokeApiKeyAction } from "@/app/[locale]/(admin)/admin/partners/actions";
import { Field, FormMessage, invalid } from "@/components/admin/field";
import { useFormAction } from "@/components/admin/use-form-action";
import styles from "@/components/admin/admin.module.css";
import type { AdminResult } from "@/lib/admin/results";

type State = AdminResult<{ id: string; key: string }> | null;

export function ApiKeyForm() {
  const [state, onSubmit, pending] = useFormAction<State>((_prev, form) => createApiKeyAction(form), null);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const t = useTranslations("admin.partners");
  return (
    <form onSubmit={onSubmit} className={styles.form} aria-label={t("create")}>
      <Field label={t("channel")} name="channel" error={errors.channel} hint={t("channelHint")}>
        <input name="channel" required maxLength={32} pattern="[a-z][a-z0-9\-]{0,31}" {...invalid("channel", errors.channel)} />
      </Field>
      <Field label={t("label")} name="label" error={errors.label}>
        <input name="label" required maxLength={120} {...invalid("label", errors.label)} />
      </Field>
      <div className={styles.wide} aria-live="polite" data-testid="form-status">
        {state?.ok ? (
          <p>
            {t("shownOnce")} <code data-testid="new-api-key">{state.key}</code>
          </p>
        ) : (
          <FormMessage state={state} />
        )}
      </div>
      <div className={`${styles.wide} ${styles.actions}`}>
        <button className="btn primary" type="submit" disabled={pending}>
          {t("create")}
        </button>
      </div>
    </form>
  );
}

export function RevokeKeyButton({ id }: { id: string }) {
  const [state, onSubmit, pending] = useFormAction<AdminResult | null>((_prev, form) => revokeApiKeyAction(form), null);
  const t = useTranslations("admin.partners");
  return (
    <form onSubmit={onSubmit}>
      <input type="hidden" name="id" value={id} />
      <button className="btn" type="submit" disabled={pending}>
        {t("revoke")}
      </button>
      <FormMessage state={state} />
    </form>
  );
}
