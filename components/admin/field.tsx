import type { ReactNode } from "react";
import styles from "@/components/admin/admin.module.css";

/** A labelled form control with its error message, announced and tied to the control by aria-describedby. */
export function Field(props: {
  label: string;
  name: string;
  error?: string;
  hint?: ReactNode;
  wide?: boolean;
  children: ReactNode;
}) {
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
          {props.error}
        </div>
      )}
    </div>
  );
}

/** Props for the control inside a Field: marks it invalid and points at its message. */
export function invalid(name: string, error: string | undefined) {
  return error ? { "aria-invalid": true as const, "aria-describedby": `${name}-error` } : {};
}

export function FormMessage({ state }: { state: { ok: boolean; message?: string } | null }) {
  if (!state || state.ok || !state.message) return null;
  return <p className="alert">{state.message}</p>;
}
