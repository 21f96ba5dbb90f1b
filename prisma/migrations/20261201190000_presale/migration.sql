-- Pre-sale (issue 13 item 4, docs/presale.md): a deposit phase before the flash sale. A deposit is an
-- order of the sale (negative sequence, no Redis admission) paid in two payments: DEPOSIT, then BALANCE.

-- AlterTable
ALTER TABLE "activities" ADD COLUMN     "presale_deposit" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "presale_starts_at" TIMESTAMP(3),
ADD COLUMN     "presale_ends_at" TIMESTAMP(3),
ADD COLUMN     "presale_units" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "balance_window_sec" INTEGER NOT NULL DEFAULT 3600;

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "deposit" INTEGER,
ADD COLUMN     "deposit_paid_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "payments" ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'FULL';

-- Hand-written checks: a pre-sale order's deposit is part of its amount, a balance is left to pay. (The deposit
-- window closing before the start is checked by the admin form only: the start-early control moves the start.)
ALTER TABLE "activities"
    ADD CONSTRAINT "activities_presale_sane" CHECK ("presale_deposit" >= 0 AND "presale_units" >= 0 AND "balance_window_sec" > 0
        AND ("presale_deposit" = 0 OR ("presale_starts_at" IS NOT NULL AND "presale_ends_at" IS NOT NULL
             AND "presale_starts_at" < "presale_ends_at")));
ALTER TABLE "orders"
    ADD CONSTRAINT "orders_deposit_within_amount" CHECK ("deposit" IS NULL OR ("deposit" > 0 AND "deposit" < "amount")),
    ADD CONSTRAINT "orders_deposit_paid_is_presale" CHECK ("deposit_paid_at" IS NULL OR "deposit" IS NOT NULL);
ALTER TABLE "payments"
    ADD CONSTRAINT "payments_kind_known" CHECK ("kind" IN ('FULL', 'DEPOSIT', 'BALANCE'));

-- I6 with two payments per pre-sale order: at most one kept payment per order and kind.
DROP INDEX "payments_one_kept_per_order";
CREATE UNIQUE INDEX "payments_one_kept_per_order" ON "payments"("order_id", "kind") WHERE "status" = 'SUCCEEDED' AND "refund_reason" IS NULL;
