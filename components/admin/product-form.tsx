"use client";

import { useRouter } from "next/navigation";
import { useTranslations } from "next-intl";
import { useState, type ChangeEvent } from "react";
import { archiveProductAction, createProductAction, updateProductAction } from "@/app/[locale]/(admin)/admin/products/actions";
import { Field, FormMessage, invalid, useServerMessage } from "@/components/admin/field";
import { useFormAction } from "@/components/admin/use-form-action";
import styles from "@/components/admin/admin.module.css";
import type { AdminResult } from "@/lib/admin/results";
import { MAX_IMAGE_BYTES } from "@/lib/admin/schemas";

const MAX_MB = MAX_IMAGE_BYTES / 1024 / 1024;

export interface ProductFormValues {
  id: string;
  name: string;
  description: string;
  listPrice: string;
  imageUrl: string | null;
  archived: boolean;
}

type State = AdminResult<object> | null;

export function ProductForm({ product }: { product?: ProductFormValues }) {
  const router = useRouter();
  const t = useTranslations("admin.products");
  const tc = useTranslations("admin.common");
  const [imageUrl, setImageUrl] = useState(product?.imageUrl ?? "");
  const [upload, setUpload] = useState<{ busy: boolean; error?: string }>({ busy: false });

  const [state, submit, pending] = useFormAction<State>(async (_prev, form) => {
    if (!product) {
      const result = await createProductAction(form);
      if (result.ok) router.push(`/admin/products/${(result as { id: string }).id}?created=1`);
      return result;
    }
    form.set("id", product.id);
    return updateProductAction(form);
  }, null);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};

  async function onFile(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    if (!file) return;
    // Said before sending 20 MB for nothing; the upload route enforces the same limit.
    if (file.size > MAX_IMAGE_BYTES) {
      e.target.value = "";
      setUpload({ busy: false, error: "imageTooLarge" });
      return;
    }
    setUpload({ busy: true });
    const body = new FormData();
    body.set("file", file);
    const res = await fetch("/api/admin/uploads", { method: "POST", body }).catch(() => null);
    const result = (await res?.json().catch(() => null)) as AdminResult<{ url: string }> | null;
    if (result?.ok) {
      setImageUrl(result.url);
      setUpload({ busy: false });
    } else {
      setUpload({ busy: false, error: result?.fieldErrors?.file ?? result?.message ?? t("uploadFailed") });
    }
  }

  return (
    <form onSubmit={submit} className={styles.form} aria-label={t(product ? "editProduct" : "newProduct")}>
      <Field label={t("name")} name="name" error={errors.name} wide>
        <input name="name" defaultValue={product?.name} maxLength={120} {...invalid("name", errors.name)} />
      </Field>
      <Field label={t("description")} name="description" error={errors.description} wide>
        <textarea
          name="description"
          rows={4}
          defaultValue={product?.description}
          {...invalid("description", errors.description)}
        />
      </Field>
      <Field
        label={t("listPriceYuan")}
        name="listPrice"
        error={errors.listPrice}
        hint={t("listPriceHint")}
      >
        <input
          name="listPrice"
          inputMode="decimal"
          defaultValue={product?.listPrice}
          {...invalid("listPrice", errors.listPrice)}
        />
      </Field>
      <Field
        label={t("image")}
        name="file"
        error={upload.error ?? errors.imageUrl}
        hint={t("imageHint", { mb: MAX_MB })}
      >
        <input
          type="file"
          accept="image/png,image/jpeg,image/gif,image/webp"
          onChange={onFile}
          {...invalid("file", upload.error)}
        />
      </Field>
      <input type="hidden" name="imageUrl" value={imageUrl} />
      <div aria-live="polite" data-testid="image-status">
        {upload.busy ? (
          <span className="muted">{t("uploading")}</span>
        ) : imageUrl ? (
          <img className={styles.preview} src={imageUrl} alt={t("preview")} />
        ) : null}
      </div>
      <div className={styles.wide} aria-live="polite" data-testid="form-status">
        <FormMessage state={state} />
        {state?.ok && product && <p className="alert ok">{t("saved")}</p>}
      </div>
      <div className={`${styles.wide} ${styles.actions}`}>
        <button className="btn primary" type="submit" disabled={pending || upload.busy}>
          {pending ? tc("saving") : t(product ? "save" : "create")}
        </button>
      </div>
    </form>
  );
}

export function ArchiveProductButton({ id, archived }: { id: string; archived: boolean }) {
  const [state, submit, pending] = useFormAction<State>((_prev, form) => archiveProductAction(form), null);
  const t = useTranslations("admin.products");
  const say = useServerMessage();
  return (
    <form onSubmit={submit} className={styles.actions}>
      <input type="hidden" name="id" value={id} />
      <input type="hidden" name="archived" value={archived ? "false" : "true"} />
      <button className="btn" type="submit" disabled={pending}>
        {t(archived ? "restore" : "archive")}
      </button>
      <span aria-live="polite">{state && !state.ok && <span className="field-error">{say(state.message)}</span>}</span>
    </form>
  );
}
