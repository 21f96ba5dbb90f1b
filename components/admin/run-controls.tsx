"use client";

import { useTranslations } from "next-intl";
import { useShopTimeZone } from "@/components/i18n/format";
import { useQueryClient } from "@tanstack/react-query";
import type { MouseEvent } from "react";
import { runControlAction } from "@/app/[locale]/(admin)/admin/activities/actions";
import { Field, invalid, useServerMessage } from "@/components/admin/field";
import { zonedInputToDate } from "@/lib/format";
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

const DONE = ["preheat", "schedule", "start", "pause", "resume", "extend", "restock", "end", "cancel"] as const;
const DESTRUCTIVE = { end: "confirmEnd", cancel: "confirmCancel" } as const;

export function RunControls({ activityId, status, paused, startAt, serverNow }: Props) {
  const queryClient = useQueryClient();
  const t = useTranslations("admin.controls");
  const timeZone = useShopTimeZone();
  const started = Date.parse(startAt) <= serverNow;
  const act = async (_prev: State, form: FormData): Promise<State> => {
    form.set("activityId", activityId);
    const end = form.get("endAt");
    // Typed in the shop's zone, like every time in the console.
    const instant = typeof end === "string" ? zonedInputToDate(end, timeZone) : null;
    if (instant) form.set("endAt", instant.toISOString());
    const result = await runControlAction(form);
    await queryClient.invalidateQueries({ queryKey: ["admin-dashboard", activityId] });
    return result;
  };
  const [simple, submitSimple, pendingSimple] = useFormAction<State>(act, null);
  const [restock, submitRestock, pendingRestock] = useFormAction<State>(act, null);
  const [extend, submitExtend, pendingExtend] = useFormAction<State>(act, null);

  const running = status === "SCHEDULED" || status === "LIVE";
  const confirmFirst = (e: MouseEvent<HTMLButtonElement>) => {
    const key = DESTRUCTIVE[e.currentTarget.value as keyof typeof DESTRUCTIVE];
    if (key && !window.confirm(t(key))) e.preventDefault();
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
    <section className={styles.controls} aria-label={t("label")}>
      <form onSubmit={submitSimple} className={styles.controlRow}>
        {button("preheat", t("preheat"), running)}
        {status === "DRAFT" && button("schedule", t("schedule"), true)}
        {button("start", t("start"), status === "SCHEDULED" && !started)}
        {paused ? button("resume", t("resume"), true) : button("pause", t("pause"), running)}
        {button("end", t("end"), running && started)}
        {button("cancel", t("cancel"), status !== "ENDED" && status !== "CANCELLED")}
      </form>
      <Outcome state={simple} testId="control-status" />

      <form onSubmit={submitRestock} className={styles.controlRow}>
        <input type="hidden" name="action" value="restock" />
        <Field
          label={t("units")}
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
          {t("restock")}
        </button>
      </form>
      <Outcome state={restock} testId="restock-status" />

      <form onSubmit={submitExtend} className={styles.controlRow}>
        <input type="hidden" name="action" value="extend" />
        <Field label={t("newEnd")} name="endAt" hint={timeZone} error={extend && !extend.ok ? extend.fieldErrors?.endAt : undefined}>
          <input
            name="endAt"
            type="datetime-local"
            step={1}
            {...invalid("endAt", extend && !extend.ok ? extend.fieldErrors?.endAt : undefined)}
          />
        </Field>
        <button className="btn" type="submit" disabled={!running || pendingExtend}>
          {t("extend")}
        </button>
      </form>
      <Outcome state={extend} testId="extend-status" />
    </section>
  );
}

function Outcome({ state, testId }: { state: State; testId: string }) {
  const t = useTranslations("admin");
  const say = useServerMessage();
  const event = state?.ok ? DONE.find((e) => e === state.event) : undefined;
  return (
    <div aria-live="polite" data-testid={testId}>
      {state?.ok && <p className="alert ok">{event ? t(`controls.done.${event}`) : t("common.done")}</p>}
      {state?.ok && state.warning && <p className="alert">{say(state.warning)}</p>}
      {state && !state.ok && !state.fieldErrors && <p className="alert">{say(state.message) ?? t("common.notAllowed")}</p>}
    </div>
  );
}
