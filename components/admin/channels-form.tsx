"use client";

import { useState, useTransition } from "react";
import { useTranslations } from "next-intl";
import { proposeChannelsAction, rebalanceAction, saveChannelsAction } from "@/app/[locale]/(admin)/admin/activities/channel-actions";
import { Field, FormMessage, invalid } from "@/components/admin/field";
import { useFormAction } from "@/components/admin/use-form-action";
import styles from "@/components/admin/admin.module.css";
import type { AdminResult } from "@/lib/admin/results";

export interface ChannelRow {
  channel: string;
  share: number;
  volume: number;
  conversion: number;
  aov: number;
}

/**
 * The split of a sale's sellable stock over its channels (docs/channels.md): the admin enters each
 * channel's history or has the shop compute it from past sales, asks for the weighted proposal,
 * edits the shares if they like, and saves. Before the sale sells only; then, rebalance.
 */
export function ChannelsForm(props: { activityId: string; sellable: number; rows: ChannelRow[]; borrowAfterSec: number | null; editable: boolean }) {
  const t = useTranslations("admin.channels");
  const [rows, setRows] = useState<ChannelRow[]>(props.rows);
  const [borrow, setBorrow] = useState(props.borrowAfterSec === null ? "" : String(props.borrowAfterSec));
  const [added, setAdded] = useState("");
  // The playbook's weights by default; the admin may weigh the measures otherwise.
  const [weights, setWeights] = useState({ volume: "0.5", conversion: "0.3", aov: "0.2" });
  const [state, setState] = useState<AdminResult | null>(null);
  const [pending, startTransition] = useTransition();
  const sum = rows.reduce((n, r) => n + r.share, 0);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};

  const set = (i: number, key: keyof ChannelRow, value: string) =>
    setRows(rows.map((r, j) => (j === i ? { ...r, [key]: key === "channel" ? value : Math.max(0, Math.floor(Number(value) || 0)) } : r)));
  const propose = (fromPast: boolean) =>
    startTransition(async () => {
      const r = await proposeChannelsAction({ activityId: props.activityId, rows: JSON.stringify(rows), fromPast: fromPast ? "1" : "0", weights });
      setState(r.ok ? null : r);
      if (r.ok) setRows(r.rows);
    });
  const save = () =>
    startTransition(async () => {
      setState(await saveChannelsAction({ activityId: props.activityId, rows: JSON.stringify(rows), borrowAfterSec: borrow }));
    });

  return (
    <div className={styles.form} data-testid="channels-form">
      <p className={styles.wide}>{t("intro", { sellable: props.sellable })}</p>
      <table className={styles.wide}>
        <thead>
          <tr>
            <th>{t("channel")}</th>
            <th>{t("volume")}</th>
            <th>{t("conversion")}</th>
            <th>{t("aov")}</th>
            <th>{t("share")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={r.channel} data-channel={r.channel}>
              <td>{r.channel}</td>
              {(["volume", "conversion", "aov", "share"] as const).map((k) => (
                <td key={k}>
                  <input
                    aria-label={`${t(k)} ${r.channel}`}
                    name={`${k}-${r.channel}`}
                    inputMode="numeric"
                    value={r[k]}
                    disabled={!props.editable}
                    onChange={(e) => set(i, k, e.target.value)}
                  />
                </td>
              ))}
              <td>
                {props.editable && (
                  <button className="btn" type="button" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                    {t("remove")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className={styles.wide} data-testid="channels-sum">
        {t("sum", { sum, sellable: props.sellable })}
      </p>
      {props.editable && (
        <>
          <Field label={t("add")} name="addChannel" hint={t("addHint")}>
            <input name="addChannel" value={added} maxLength={32} onChange={(e) => setAdded(e.target.value.trim().toLowerCase())} />
          </Field>
          <div className={styles.actions}>
            <button
              className="btn"
              type="button"
              disabled={!added || rows.some((r) => r.channel === added)}
              onClick={() => {
                setRows([...rows, { channel: added, share: 0, volume: 0, conversion: 0, aov: 0 }]);
                setAdded("");
              }}
            >
              {t("addButton")}
            </button>
          </div>
          <fieldset className={styles.wide}>
            <legend>{t("weights")}</legend>
            {(["volume", "conversion", "aov"] as const).map((k) => (
              <label key={k}>
                {t(`weight${k === "aov" ? "Aov" : k === "volume" ? "Volume" : "Conversion"}`)}
                <input
                  name={`weight-${k}`}
                  inputMode="decimal"
                  value={weights[k]}
                  onChange={(e) => setWeights({ ...weights, [k]: e.target.value })}
                  {...invalid(`weights`, errors.weights)}
                />
              </label>
            ))}
          </fieldset>
          <Field label={t("borrowAfter")} name="borrowAfterSec" error={errors.borrowAfterSec} hint={t("borrowHint")}>
            <input name="borrowAfterSec" inputMode="numeric" value={borrow} onChange={(e) => setBorrow(e.target.value)} {...invalid("borrowAfterSec", errors.borrowAfterSec)} />
          </Field>
          <div className={`${styles.wide} ${styles.actions}`}>
            <button className="btn" type="button" disabled={pending || rows.length === 0} onClick={() => propose(false)}>
              {t("propose")}
            </button>
            <button className="btn" type="button" disabled={pending || rows.length === 0} onClick={() => propose(true)}>
              {t("proposePast")}
            </button>
            <button className="btn primary" type="button" disabled={pending} onClick={save}>
              {t("save")}
            </button>
          </div>
        </>
      )}
      <div className={styles.wide} aria-live="polite" data-testid="channels-status">
        {state?.ok ? t("saved") : <FormMessage state={state} />}
        {errors.rows && <div className="field-error" role="alert">{t("rowsError")}: {errors.rows}</div>}
      </div>
    </div>
  );
}

/** Moves unsold units between two channels of a sale that is selling (all or nothing). */
export function RebalanceForm({ activityId, channels }: { activityId: string; channels: string[] }) {
  const t = useTranslations("admin.channels");
  const [state, onSubmit, pending] = useFormAction<AdminResult<{ fromLeft: number }> | null>((_prev, form) => rebalanceAction(form), null);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  return (
    <form onSubmit={onSubmit} className={styles.form} aria-label={t("rebalance")}>
      <input type="hidden" name="activityId" value={activityId} />
      <Field label={t("from")} name="from" error={errors.from}>
        <select name="from" {...invalid("from", errors.from)}>
          {channels.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </Field>
      <Field label={t("to")} name="to" error={errors.to}>
        <select name="to" defaultValue={channels[1]} {...invalid("to", errors.to)}>
          {channels.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </Field>
      <Field label={t("units")} name="units" error={errors.units}>
        <input name="units" required inputMode="numeric" {...invalid("units", errors.units)} />
      </Field>
      <div className={styles.wide} aria-live="polite" data-testid="rebalance-status">
        {state?.ok ? t("moved", { left: state.fromLeft }) : <FormMessage state={state} />}
      </div>
      <div className={`${styles.wide} ${styles.actions}`}>
        <button className="btn primary" type="submit" disabled={pending}>
          {t("rebalance")}
        </button>
      </div>
    </form>
  );
}
