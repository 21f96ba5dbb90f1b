import "server-only";
import { db } from "@/lib/db";
import { recordAudit } from "@/lib/admin/audit";
import { fail, type AdminResult } from "@/lib/admin/results";
import { idSchema, type ProductInput } from "@/lib/admin/schemas";
import { slugFrom } from "@/lib/admin/slug";

export interface ProductRow {
  id: string;
  slug: string;
  name: string;
  description: string;
  imageUrl: string | null;
  listPrice: number;
  currency: string;
  archivedAt: Date | null;
  activities: number;
}

export async function listProducts(opts: { includeArchived?: boolean } = {}): Promise<ProductRow[]> {
  const rows = await db().product.findMany({
    where: opts.includeArchived ? {} : { archivedAt: null },
    orderBy: [{ archivedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }],
    include: { _count: { select: { activities: true } } },
  });
  return rows.map((p) => ({
    id: p.id,
    slug: p.slug,
    name: p.name,
    description: p.description,
    imageUrl: p.imageUrl,
    listPrice: p.listPrice,
    currency: p.currency,
    archivedAt: p.archivedAt,
    activities: p._count.activities,
  }));
}

export async function getProduct(id: string) {
  if (!idSchema.safeParse(id).success) return null;
  return db().product.findUnique({ where: { id } });
}

export async function createProduct(input: ProductInput, actorId: string): Promise<AdminResult<{ id: string }>> {
  const product = await db().$transaction(async (tx) => {
    const p = await tx.product.create({ data: { ...input, slug: slugFrom(input.name, "product") } });
    await recordAudit(tx, {
      actorId,
      action: "product.create",
      productId: p.id,
      details: { name: p.name, listPrice: p.listPrice },
    });
    return p;
  });
  return { ok: true, id: product.id };
}

/** Returns the slugs of the product's activities: their storefront pages show the product. */
export async function updateProduct(
  input: ProductInput & { id: string },
  actorId: string,
): Promise<AdminResult<{ id: string; activitySlugs: string[] }>> {
  const { id, ...data } = input;
  return db().$transaction(async (tx) => {
    const before = await tx.product.findUnique({ where: { id } });
    if (!before) return fail("NOT_FOUND", "productMissing");
    await tx.product.update({ where: { id }, data });
    const changed = Object.fromEntries(
      (Object.keys(data) as (keyof typeof data)[])
        .filter((k) => before[k] !== data[k])
        .map((k) => [k, { from: before[k], to: data[k] }]),
    );
    await recordAudit(tx, { actorId, action: "product.update", productId: id, details: changed });
    const activities = await tx.activity.findMany({ where: { productId: id }, select: { slug: true } });
    return { ok: true, id, activitySlugs: activities.map((a) => a.slug) };
  });
}

/** Archived products leave the storefront and the new-activity form; one with a sale to come cannot be archived. */
export async function setProductArchived(
  id: string,
  archived: boolean,
  actorId: string,
): Promise<AdminResult<{ id: string; activitySlugs: string[] }>> {
  return db().$transaction(async (tx) => {
    const product = await tx.product.findUnique({
      where: { id },
      include: { activities: { select: { slug: true, status: true } } },
    });
    if (!product) return fail("NOT_FOUND", "productMissing");
    if (archived && product.activities.some((a) => a.status === "SCHEDULED" || a.status === "LIVE")) {
      return fail("CONFLICT", "productInSale");
    }
    if (Boolean(product.archivedAt) === archived)
      return fail("CONFLICT", archived ? "alreadyArchived" : "notArchived");
    await tx.product.update({ where: { id }, data: { archivedAt: archived ? new Date() : null } });
    await recordAudit(tx, { actorId, action: archived ? "product.archive" : "product.restore", productId: id });
    return { ok: true, id, activitySlugs: product.activities.map((a) => a.slug) };
  });
}
