"use client";

import { useTranslations } from "next-intl";
import { addBlockAction, removeBlockAction } from "@/app/[locale]/(admin)/admin/blocklist/actions";
import { Field, FormMessage, invalid } from "@/components/admin/field";
import { useFormAction } from "@/components/admin/use-form-action";
import styles from "@/components/admin/admin.module.css";
import type { AdminResult } from "@/lib/admin/results";

type State = AdminResult<{ id: string }> | null;

const KINDS = ["USER", "IP", "EMAIL_DOMAIN"] as const;

export function BlocklistForm() {
  const [state, onSubmit, pending] = useFormAction<State>((_prev, form) => addBlockAction(form), null);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const t = useTranslations("admin.blocklist");
  return (
    <form onSubmit={onSubmit} className={styles.form} aria-label={t("block")}>
      <Field label={t("what")} name="kind" error={errors.kind}>
        <select name="kind" defaultValue="USER" {...invalid("kind", errors.kind)}>
          {KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {t(`kindOption.${kind}`)}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t("value")} name="value" error={errors.value}>
        <input name="value" required maxLength={253} {...invalid("value", errors.value)} />
      </Field>
      <Field label={t("note")} name="note" error={errors.note} wide>
        <input name="note" maxLength={200} {...invalid("note", errors.note)} />
      </Field>
      <div className={styles.wide} aria-live="polite" data-testid="form-status">
        <FormMessage state={state} />
      </div>
      <div className={`${styles.wide} ${styles.actions}`}>
        <button className="btn primary" type="submit" disabled={pending}>
          {t(pending ? "blocking" : "block")}
        </button>
      </div>
    </form>
  );
}

export function UnblockButton({ id }: { id: string }) {
  const [state, onSubmit, pending] = useFormAction<AdminResult | null>((_prev, form) => removeBlockAction(form), null);
  const t = useTranslations("admin.blocklist");
  return (
    <form onSubmit={onSubmit}>
      <input type="hidden" name="id" value={id} />
      <button className="btn" type="submit" disabled={pending}>
        {t("unblock")}
      </button>
      <FormMessage state={state} />
    </form>
  );
}
