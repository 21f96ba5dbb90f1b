"use client";

import { useRouter } from "next/navigation";
import { useSyncExternalStore } from "react";
import { createActivityAction, updateActivityAction } from "@/app/(admin)/admin/activities/actions";
import { Field, FormMessage, invalid } from "@/components/admin/field";
import { useFormAction } from "@/components/admin/use-form-action";
import styles from "@/components/admin/admin.module.css";
import type { AdminResult } from "@/lib/admin/results";

export interface ActivityFormValues {
  id: string;
  title: string;
  productId: string;
  salePrice: string;
  startAt: string;
  endAt: string;
  totalStock: number;
  perUserLimit: number;
  deductionMode: "ORDER" | "RESERVE" | "PAYMENT";
  paymentWindowMin: number;
  safetyStockPct: number;
  humanCheck: "OFF" | "REQUIRED";
  captchaDifficulty: number;
  refuseNonPayers: boolean;
}

interface Props {
  products: { id: string; name: string }[];
  activity?: ActivityFormValues;
  /** The sale is selling: only the title may change (stock and end have run controls). */
  locked?: boolean;
}

type State = AdminResult<{ id?: string }> | null;

const MODES = [
  ["ORDER", "On order (下单减库存): stock leaves when the order is accepted"],
  ["RESERVE", "Reserve (预扣库存): stock is held for the payment window"],
  ["PAYMENT", "On payment (付款减库存): stock leaves at payment; late payers are refused"],
] as const;

const subscribe = () => () => {};
/** False while rendering on the server and hydrating, true after: local times exist only in the browser. */
const useIsClient = () =>
  useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );

/** The browser's local time as a datetime-local value, to the second. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** datetime-local values carry no zone: send them as instants, read in the admin's time zone. */
function withInstants(form: FormData, names: string[]): FormData {
  for (const name of names) {
    const v = form.get(name);
    if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v)) {
      const d = new Date(v);
      if (!Number.isNaN(d.getTime())) form.set(name, d.toISOString());
    }
  }
  return form;
}

export function ActivityForm({ products, activity, locked = false }: Props) {
  const router = useRouter();
  const isClient = useIsClient();
  const [state, submit, pending] = useFormAction<State>(async (_prev, form) => {
    withInstants(form, ["startAt", "endAt"]);
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
    <form onSubmit={submit} className={styles.form} aria-label={activity ? "Edit sale" : "New sale"} noValidate>
      {locked && (
        <p className={`alert info ${styles.wide}`}>
          This sale is selling: only the title can change here. Use Restock and Extend end on its dashboard.
        </p>
      )}
      <Field label="Title" name="title" error={errors.title} wide>
        <input name="title" defaultValue={activity?.title} maxLength={120} {...invalid("title", errors.title)} />
      </Field>
      <Field label="Product" name="productId" error={errors.productId}>
        <select
          name="productId"
          defaultValue={activity?.productId ?? ""}
          disabled={locked}
          {...invalid("productId", errors.productId)}
        >
          <option value="" disabled>
            Choose a product
          </option>
          {products.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </Field>
      {locked && <input type="hidden" name="productId" value={activity?.productId} />}
      <Field label="Sale price (yuan)" name="salePrice" error={errors.salePrice}>
        <input
          name="salePrice"
          inputMode="decimal"
          defaultValue={activity?.salePrice}
          {...ro}
          {...invalid("salePrice", errors.salePrice)}
        />
      </Field>
      <Field
        label="Start"
        name="startAt"
        error={errors.startAt}
        hint={isClient ? `Your time zone: ${Intl.DateTimeFormat().resolvedOptions().timeZone}` : undefined}
      >
        <input
          key={isClient ? "local" : "server"}
          name="startAt"
          type="datetime-local"
          step={1}
          defaultValue={isClient && activity ? toLocalInput(activity.startAt) : undefined}
          {...ro}
          {...invalid("startAt", errors.startAt)}
        />
      </Field>
      <Field label="End" name="endAt" error={errors.endAt}>
        <input
          key={isClient ? "local" : "server"}
          name="endAt"
          type="datetime-local"
          step={1}
          defaultValue={isClient && activity ? toLocalInput(activity.endAt) : undefined}
          {...ro}
          {...invalid("endAt", errors.endAt)}
        />
      </Field>
      <Field label="Total stock" name="totalStock" error={errors.totalStock} hint="Units, including the safety share.">
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
        label="Safety stock (%)"
        name="safetyStockPct"
        error={errors.safetyStockPct}
        hint="0–30 % of the stock kept off sale."
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
      <Field label="Limit per person" name="perUserLimit" error={errors.perUserLimit}>
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
      <Field label="Deduction mode" name="deductionMode" error={errors.deductionMode} wide>
        <select
          name="deductionMode"
          defaultValue={activity?.deductionMode ?? "ORDER"}
          disabled={locked}
          {...invalid("deductionMode", errors.deductionMode)}
        >
          {MODES.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </Field>
      {locked && <input type="hidden" name="deductionMode" value={activity?.deductionMode} />}
      <Field
        label="Payment window (minutes)"
        name="paymentWindowMin"
        error={errors.paymentWindowMin}
        hint="How long an order may wait for payment."
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
        label="Human check"
        name="humanCheck"
        error={errors.humanCheck}
        hint="Required: shoppers solve a check during the countdown; the buy button works only for them."
      >
        <select name="humanCheck" defaultValue={activity?.humanCheck ?? "OFF"} {...invalid("humanCheck", errors.humanCheck)}>
          <option value="OFF">Off</option>
          <option value="REQUIRED">Required</option>
        </select>
      </Field>
      <Field
        label="Check difficulty"
        name="captchaDifficulty"
        error={errors.captchaDifficulty}
        hint="ALTCHA proof of work: about 5,000 takes a phone a second or two."
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
          Refuse shoppers flagged as non-payers (they let too many orders expire)
        </label>
      </div>
      {locked && <input type="hidden" name="refuseNonPayers" value={String(activity?.refuseNonPayers ?? true)} />}
      {!activity && (
        <div className={styles.wide}>
          <label className={styles.check}>
            <input type="checkbox" name="schedule" defaultChecked />
            Schedule it (otherwise it is saved as a draft)
          </label>
        </div>
      )}
      <div className={styles.wide} aria-live="polite" data-testid="form-status">
        <FormMessage state={state} />
      </div>
      <div className={`${styles.wide} ${styles.actions}`}>
        <button className="btn primary" type="submit" disabled={pending}>
          {pending ? "Saving…" : activity ? "Save sale" : "Create sale"}
        </button>
      </div>
    </form>
  );
}
