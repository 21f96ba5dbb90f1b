"use client";

import { useTranslations } from "next-intl";
import type { ReactNode } from "react";
import styles from "@/components/admin/admin.module.css";
import type { AdminErrorCode } from "@/lib/admin/results";

/**
 * A message from lib/admin in the page's language: a key of "admin.message" or "validation"
 * (messages/*.json); anything else is shown as it came.
 */
export function useServerMessage(): (key: string | undefined) => string | undefined {
  const message = useTranslations("admin.message");
  const validation = useTranslations("validation");
  return (key) => {
    if (!key) return undefined;
    if (message.has(key as never)) return message(key as never);
    if (validation.has(key as never)) return validation(key as never);
    return key;
  };
}

/** A labelled form control with its error message, announced and tied to the control by aria-describedby. */
export function Field(props: {
  label: string;
  name: string;
  error?: string;
  hint?: ReactNode;
  wide?: boolean;
  children: ReactNode;
}) {
  const say = useServerMessage();
  const errorId = `${props.name}-error`;
  return (
    <div className={props.wide ? styles.wide : undefined}>
      <label>
        {props.label}
        {props.children}
      </label>
      {props.hint && <div className={styles.hint}>{props.hint}</div>}
      {props.error && (
        <div className="field-error" id={errorId} role="alert">
          {say(props.error)}
        </div>
      )}
    </div>
  );
}

/** Props for the control inside a Field: marks it invalid and points at its message. */
export function invalid(name: string, error: string | undefined) {
  return error ? { "aria-invalid": true as const, "aria-describedby": `${name}-error` } : {};
}

/** A refused action's message: its own, or what its code means. */
export function FormMessage({ state }: { state: { ok: boolean; message?: string; code?: AdminErrorCode } | null }) {
  const say = useServerMessage();
  const codes = useTranslations("admin.errorCode");
  if (!state || state.ok) return null;
  const text = say(state.message) ?? (state.code ? codes(state.code) : undefined);
  return text ? <p className="alert">{text}</p> : null;
}
