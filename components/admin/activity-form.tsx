"use client";

import { useRouter } from "next/navigation";
import { useTranslations } from "next-intl";
import { useShopTimeZone } from "@/components/i18n/format";
import { createActivityAction, updateActivityAction } from "@/app/[locale]/(admin)/admin/activities/actions";
import { Field, FormMessage, invalid } from "@/components/admin/field";
import { useFormAction } from "@/components/admin/use-form-action";
import styles from "@/components/admin/admin.module.css";
import type { AdminResult } from "@/lib/admin/results";
import { dateToZonedInput, zonedInputToDate, zoneLabel } from "@/lib/format";

export interface ActivityFormValues {
  id: string;
  title: string;
  productId: string;
  salePrice: string;
  startAt: string;
  endAt: string;
  totalStock: number;
  perUserLimit: number;
  stockSegments: number;
  deductionMode: "ORDER" | "RESERVE" | "PAYMENT";
  paymentWindowMin: number;
  safetyStockPct: number;
  humanCheck: "OFF" | "REQUIRED";
  captchaDifficulty: number;
  refuseNonPayers: boolean;
  prequeueMinutes: number;
  /** Pre-sale (docs/presale.md): deposit in yuan ("0.00": none), its window, units, balance window. */
  presaleDeposit: string;
  presaleStartsAt: string | null;
  presaleEndsAt: string | null;
  presaleUnits: number;
  balanceWindowMin: number;
}

interface Props {
  products: { id: string; name: string }[];
  activity?: ActivityFormValues;
  /** The sale is selling: only the title may change (stock and end have run controls). */
  locked?: boolean;
}

type State = AdminResult<{ id?: string }> | null;

const MODES = ["ORDER", "RESERVE", "PAYMENT"] as const;

/** datetime-local values carry no zone: they are wall-clock times in the shop's zone, sent as instants. */
function withInstants(form: FormData, names: string[], timeZone: string): FormData {
  for (const name of names) {
    const v = form.get(name);
    const d = typeof v === "string" ? zonedInputToDate(v, timeZone) : null;
    if (d) form.set(name, d.toISOString());
  }
  return form;
}

export function ActivityForm({ products, activity, locked = false }: Props) {
  const router = useRouter();
  const t = useTranslations("admin.form");
  const timeZone = useShopTimeZone();
  const tc = useTranslations("admin.common");
  const [state, submit, pending] = useFormAction<State>(async (_prev, form) => {
    withInstants(form, ["startAt", "endAt", "presaleStartsAt", "presaleEndsAt"], timeZone);
    if (!activity) {
      const result = await createActivityAction(form);
      if (result.ok && result.id) router.push(`/admin/activities/${result.id}`);
      return result;
    }
    form.set("id", activity.id);
    const result = await updateActivityAction(form);
    if (result.ok) router.push(`/admin/activities/${activity.id}`);
    return result;
  }, null);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const ro = locked ? { readOnly: true, "aria-readonly": true as const } : {};

  return (
    <form onSubmit={submit} className={styles.form} aria-label={t(activity ? "editSale" : "newSale")} noValidate>
      {locked && (
        <p className={`alert info ${styles.wide}`}>
          {t("lockedNote")}
        </p>
      )}
      <Field label={t("title")} name="title" error={errors.title} wide>
        <input name="title" defaultValue={activity?.title} maxLength={120} {...invalid("title", errors.title)} />
      </Field>
      <Field label={t("product")} name="productId" error={errors.productId}>
        <select
          name="productId"
          defaultValue={activity?.productId ?? ""}
          disabled={locked}
          {...invalid("productId", errors.productId)}
        >
          <option value="" disabled>
            {t("chooseProduct")}
          </option>
          {products.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </Field>
      {locked && <input type="hidden" name="productId" value={activity?.productId} />}
      <Field label={t("salePrice")} name="salePrice" error={errors.salePrice}>
        <input
          name="salePrice"
          inputMode="decimal"
          defaultValue={activity?.salePrice}
          {...ro}
          {...invalid("salePrice", errors.salePrice)}
        />
      </Field>
      <Field
        label={t("start")}
        name="startAt"
        error={errors.startAt}
        hint={t("zoneHint", { zone: `${timeZone} (${zoneLabel(timeZone, "en")})` })}
      >
        <input
          name="startAt"
          type="datetime-local"
          step={1}
          defaultValue={activity ? dateToZonedInput(activity.startAt, timeZone) : undefined}
          {...ro}
          {...invalid("startAt", errors.startAt)}
        />
      </Field>
      <Field label={t("end")} name="endAt" error={errors.endAt}>
        <input
          name="endAt"
          type="datetime-local"
          step={1}
          defaultValue={activity ? dateToZonedInput(activity.endAt, timeZone) : undefined}
          {...ro}
          {...invalid("endAt", errors.endAt)}
        />
      </Field>
      <Field label={t("totalStock")} name="totalStock" error={errors.totalStock} hint={t("totalStockHint")}>
        <input
          name="totalStock"
          type="number"
          min={1}
          step={1}
          defaultValue={activity?.totalStock}
          {...ro}
          {...invalid("totalStock", errors.totalStock)}
        />
      </Field>
      <Field
        label={t("safety")}
        name="safetyStockPct"
        error={errors.safetyStockPct}
        hint={t("safetyHint")}
      >
        <input
          name="safetyStockPct"
          type="number"
          min={0}
          max={30}
          step={1}
          defaultValue={activity?.safetyStockPct ?? 0}
          {...ro}
          {...invalid("safetyStockPct", errors.safetyStockPct)}
        />
      </Field>
      <Field label={t("limit")} name="perUserLimit" error={errors.perUserLimit}>
        <input
          name="perUserLimit"
          type="number"
          min={1}
          max={99}
          step={1}
          defaultValue={activity?.perUserLimit ?? 1}
          {...ro}
          {...invalid("perUserLimit", errors.perUserLimit)}
        />
      </Field>
      <Field label={t("segments")} name="stockSegments" error={errors.stockSegments} hint={t("segmentsHint")}>
        <input
          name="stockSegments"
          type="number"
          min={1}
          max={16}
          step={1}
          defaultValue={activity?.stockSegments ?? 1}
          {...ro}
          {...invalid("stockSegments", errors.stockSegments)}
        />
      </Field>
      <Field label={t("mode")} name="deductionMode" error={errors.deductionMode} wide>
        <select
          name="deductionMode"
          defaultValue={activity?.deductionMode ?? "ORDER"}
          disabled={locked}
          {...invalid("deductionMode", errors.deductionMode)}
        >
          {MODES.map((value) => (
            <option key={value} value={value}>
              {t(`mode${value}`)}
            </option>
          ))}
        </select>
      </Field>
      {locked && <input type="hidden" name="deductionMode" value={activity?.deductionMode} />}
      <Field
        label={t("window")}
        name="paymentWindowMin"
        error={errors.paymentWindowMin}
        hint={t("windowHint")}
      >
        <input
          name="paymentWindowMin"
          type="number"
          min={1}
          step={1}
          defaultValue={activity?.paymentWindowMin ?? 10}
          {...ro}
          {...invalid("paymentWindowMin", errors.paymentWindowMin)}
        />
      </Field>
      <Field
        label={t("check")}
        name="humanCheck"
        error={errors.humanCheck}
        hint={t("checkHint")}
      >
        <select name="humanCheck" defaultValue={activity?.humanCheck ?? "OFF"} {...invalid("humanCheck", errors.humanCheck)}>
          <option value="OFF">{t("off")}</option>
          <option value="REQUIRED">{t("required")}</option>
        </select>
      </Field>
      <Field
        label={t("difficulty")}
        name="captchaDifficulty"
        error={errors.captchaDifficulty}
        hint={t("difficultyHint")}
      >
        <input
          name="captchaDifficulty"
          type="number"
          min={100}
          max={1000000}
          step={1}
          defaultValue={activity?.captchaDifficulty ?? 5000}
          {...invalid("captchaDifficulty", errors.captchaDifficulty)}
        />
      </Field>
      <Field label={t("prequeue")} name="prequeueMinutes" error={errors.prequeueMinutes} hint={t("prequeueHint")}>
        <input
          name="prequeueMinutes"
          type="number"
          min={0}
          max={60}
          step={1}
          defaultValue={activity?.prequeueMinutes ?? 0}
          {...ro}
          {...invalid("prequeueMinutes", errors.prequeueMinutes)}
        />
      </Field>
      <fieldset className={styles.wide} data-testid="presale-fields">
        <legend>{t("presale")}</legend>
        <p className="muted small">{t("presaleHint")}</p>
        <Field label={t("presaleDeposit")} name="presaleDeposit" error={errors.presaleDeposit} hint={t("presaleDepositHint")}>
          <input
            name="presaleDeposit"
            inputMode="decimal"
            defaultValue={activity?.presaleDeposit ?? "0"}
            {...ro}
            {...invalid("presaleDeposit", errors.presaleDeposit)}
          />
        </Field>
        <Field label={t("presaleStart")} name="presaleStartsAt" error={errors.presaleStartsAt}>
          <input
            name="presaleStartsAt"
            type="datetime-local"
            step={1}
            defaultValue={activity?.presaleStartsAt ? dateToZonedInput(activity.presaleStartsAt, timeZone) : undefined}
            {...ro}
            {...invalid("presaleStartsAt", errors.presaleStartsAt)}
          />
        </Field>
        <Field label={t("presaleEnd")} name="presaleEndsAt" error={errors.presaleEndsAt}>
          <input
            name="presaleEndsAt"
            type="datetime-local"
            step={1}
            defaultValue={activity?.presaleEndsAt ? dateToZonedInput(activity.presaleEndsAt, timeZone) : undefined}
            {...ro}
            {...invalid("presaleEndsAt", errors.presaleEndsAt)}
          />
        </Field>
        <Field label={t("presaleUnits")} name="presaleUnits" error={errors.presaleUnits}>
          <input
            name="presaleUnits"
            type="number"
            min={0}
            step={1}
            defaultValue={activity?.presaleUnits ?? 0}
            {...ro}
            {...invalid("presaleUnits", errors.presaleUnits)}
          />
        </Field>
        <Field label={t("balanceWindow")} name="balanceWindowMin" error={errors.balanceWindowMin} hint={t("balanceWindowHint")}>
          <input
            name="balanceWindowMin"
            type="number"
            min={1}
            step={1}
            defaultValue={activity?.balanceWindowMin ?? 60}
            {...ro}
            {...invalid("balanceWindowMin", errors.balanceWindowMin)}
          />
        </Field>
      </fieldset>
      <div className={styles.wide}>
        {/* Unchecked boxes send nothing: the hidden "false" before it is what an unchecked box means. */}
        <input type="hidden" name="refuseNonPayers" value="false" />
        <label className={styles.check}>
          <input
            type="checkbox"
            name="refuseNonPayers"
            value="true"
            defaultChecked={activity?.refuseNonPayers ?? true}
            disabled={locked}
          />
          {t("refuseNonPayers")}
        </label>
      </div>
      {locked && <input type="hidden" name="refuseNonPayers" value={String(activity?.refuseNonPayers ?? true)} />}
      {!activity && (
        <div className={styles.wide}>
          <label className={styles.check}>
            <input type="checkbox" name="schedule" defaultChecked />
            {t("schedule")}
          </label>
        </div>
      )}
      <div className={styles.wide} aria-live="polite" data-testid="form-status">
        <FormMessage state={state} />
      </div>
      <div className={`${styles.wide} ${styles.actions}`}>
        <button className="btn primary" type="submit" disabled={pending}>
          {pending ? tc("saving") : t(activity ? "save" : "create")}
        </button>
      </div>
    </form>
  );
}
