"use client";

import { useQueryClient } from "@tanstack/react-query";
import type { MouseEvent } from "react";
import { runControlAction } from "@/app/(admin)/admin/activities/actions";
import { Field, invalid } from "@/components/admin/field";
import { useFormAction } from "@/components/admin/use-form-action";
import styles from "@/components/admin/admin.module.css";
import type { AdminResult } from "@/lib/admin/results";

interface Props {
  activityId: string;
  /** From the latest dashboard snapshot (PostgreSQL), so the buttons follow the sale without a reload. */
  status: string;
  paused: boolean;
  startAt: string;
  /** Server time of that snapshot. */
  serverNow: number;
}

type State = AdminResult<{ event?: string; warning?: string }> | null;

const DONE: Record<string, string> = {
  preheat: "Preheated.",
  schedule: "Scheduled.",
  start: "Started.",
  pause: "Paused: new buys are refused.",
  resume: "Resumed: buys are accepted again.",
  extend: "End extended.",
  restock: "Restocked.",
  end: "Ended.",
  cancel: "Cancelled.",
};

const DESTRUCTIVE: Record<string, string> = {
  end: "End this sale now? New buys will be refused.",
  cancel: "Cancel this sale? New buys will be refused.",
};

export function RunControls({ activityId, status, paused, startAt, serverNow }: Props) {
  const queryClient = useQueryClient();
  const started = Date.parse(startAt) <= serverNow;
  const act = async (_prev: State, form: FormData): Promise<State> => {
    form.set("activityId", activityId);
    const end = form.get("endAt");
    if (typeof end === "string" && end && !end.endsWith("Z")) form.set("endAt", new Date(end).toISOString());
    const result = await runControlAction(form);
    await queryClient.invalidateQueries({ queryKey: ["admin-dashboard", activityId] });
    return result;
  };
  const [simple, submitSimple, pendingSimple] = useFormAction<State>(act, null);
  const [restock, submitRestock, pendingRestock] = useFormAction<State>(act, null);
  const [extend, submitExtend, pendingExtend] = useFormAction<State>(act, null);

  const running = status === "SCHEDULED" || status === "LIVE";
  const confirmFirst = (e: MouseEvent<HTMLButtonElement>) => {
    const question = DESTRUCTIVE[e.currentTarget.value];
    if (question && !window.confirm(question)) e.preventDefault();
  };
  const button = (action: string, label: string, enabled: boolean) => (
    <button
      className="btn"
      type="submit"
      name="action"
      value={action}
      disabled={!enabled || pendingSimple}
      onClick={confirmFirst}
    >
      {label}
    </button>
  );

  return (
    <section className={styles.controls} aria-label="Run controls">
      <form onSubmit={submitSimple} className={styles.controlRow}>
        {button("preheat", "Preheat now", running)}
        {status === "DRAFT" && button("schedule", "Schedule", true)}
        {button("start", "Start now", status === "SCHEDULED" && !started)}
        {paused ? button("resume", "Resume", true) : button("pause", "Pause", running)}
        {button("end", "End now", running && started)}
        {button("cancel", "Cancel sale", status !== "ENDED" && status !== "CANCELLED")}
      </form>
      <Outcome state={simple} testId="control-status" />

      <form onSubmit={submitRestock} className={styles.controlRow}>
        <input type="hidden" name="action" value="restock" />
        <Field
          label="Units to add"
          name="units"
          error={restock && !restock.ok ? restock.fieldErrors?.units : undefined}
        >
          <input
            name="units"
            type="number"
            min={1}
            step={1}
            defaultValue={10}
            {...invalid("units", restock && !restock.ok ? restock.fieldErrors?.units : undefined)}
          />
        </Field>
        <button className="btn" type="submit" disabled={!running || pendingRestock}>
          Restock
        </button>
      </form>
      <Outcome state={restock} testId="restock-status" />

      <form onSubmit={submitExtend} className={styles.controlRow}>
        <input type="hidden" name="action" value="extend" />
        <Field label="New end" name="endAt" error={extend && !extend.ok ? extend.fieldErrors?.endAt : undefined}>
          <input
            name="endAt"
            type="datetime-local"
            step={1}
            {...invalid("endAt", extend && !extend.ok ? extend.fieldErrors?.endAt : undefined)}
          />
        </Field>
        <button className="btn" type="submit" disabled={!running || pendingExtend}>
          Extend end
        </button>
      </form>
      <Outcome state={extend} testId="extend-status" />
    </section>
  );
}

function Outcome({ state, testId }: { state: State; testId: string }) {
  return (
    <div aria-live="polite" data-testid={testId}>
      {state?.ok && <p className="alert ok">{DONE[state.event ?? ""] ?? "Done."}</p>}
      {state?.ok && state.warning && <p className="alert">{state.warning}</p>}
      {state && !state.ok && !state.fieldErrors && <p className="alert">{state.message ?? "Not allowed."}</p>}
    </div>
  );
}
