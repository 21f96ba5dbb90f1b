-- AlterEnum
ALTER TYPE "OrderStatus" ADD VALUE 'REFUNDED';

-- CreateEnum
CREATE TYPE "SandboxChargeStatus" AS ENUM ('OPEN', 'PAID', 'DECLINED', 'REFUNDED');

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "expired_orders" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "non_payer_since" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "activities" ADD COLUMN     "refuse_non_payers" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "close_reason" TEXT,
ADD COLUMN     "closed_at" TIMESTAMP(3),
ADD COLUMN     "redis_owed" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "payments" ADD COLUMN     "checkout_url" TEXT,
ADD COLUMN     "currency" TEXT NOT NULL DEFAULT 'CNY',
ADD COLUMN     "paid_at" TIMESTAMP(3),
ADD COLUMN     "queried_at" TIMESTAMP(3),
ADD COLUMN     "refund_reason" TEXT,
ADD COLUMN     "refund_ref" TEXT,
ADD COLUMN     "refunded_at" TIMESTAMP(3),
ADD COLUMN     "returned_at" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "sandbox_charges" (
    "id" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "status" "SandboxChargeStatus" NOT NULL DEFAULT 'OPEN',
    "notify_url" TEXT NOT NULL,
    "return_url" TEXT NOT NULL,
    "delivery" TEXT NOT NULL DEFAULT 'normal',
    "paid_at" TIMESTAMP(3),
    "refunded_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sandbox_charges_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reconciliation_runs" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),
    "checked" INTEGER NOT NULL DEFAULT 0,
    "repaired" INTEGER NOT NULL DEFAULT 0,
    "issues" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "reconciliation_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sandbox_charges_created_at_idx" ON "sandbox_charges"("created_at");

-- CreateIndex
CREATE INDEX "reconciliation_runs_started_at_idx" ON "reconciliation_runs"("started_at");

-- CreateIndex
CREATE INDEX "orders_status_pay_by_idx" ON "orders"("status", "pay_by");

-- CreateIndex
CREATE INDEX "payments_status_refund_reason_idx" ON "payments"("status", "refund_reason");

-- Order lifecycle enforced by the database (hand-written; lib/orders/lifecycle.ts is the only writer).
-- A status may change only along the transitions its trigger lists ("FROM>TO"), so a bug in
-- TypeScript cannot, say, un-expire an order whose units went back on sale.
CREATE FUNCTION "guard_status_transition"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = OLD.status OR (OLD.status::text || '>' || NEW.status::text) = ANY (TG_ARGV) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'illegal % status change % -> %', TG_TABLE_NAME, OLD.status, NEW.status USING ERRCODE = 'check_violation';
END $$;

CREATE TRIGGER "orders_status_transition" BEFORE UPDATE OF "status" ON "orders" FOR EACH ROW
  EXECUTE FUNCTION "guard_status_transition"('PENDING_PAYMENT>PAID', 'PENDING_PAYMENT>EXPIRED', 'PENDING_PAYMENT>CANCELLED', 'PAID>REFUNDED');

CREATE TRIGGER "payments_status_transition" BEFORE UPDATE OF "status" ON "payments" FOR EACH ROW
  EXECUTE FUNCTION "guard_status_transition"('PENDING>SUCCEEDED', 'PENDING>FAILED', 'SUCCEEDED>REFUNDED');

ALTER TABLE "orders"
    ADD CONSTRAINT "orders_paid_has_time" CHECK ("status"::text NOT IN ('PAID', 'REFUNDED') OR "paid_at" IS NOT NULL),
    ADD CONSTRAINT "orders_closed_has_reason" CHECK ("status"::text NOT IN ('EXPIRED', 'CANCELLED', 'REFUNDED') OR ("closed_at" IS NOT NULL AND "close_reason" IS NOT NULL));

ALTER TABLE "payments"
    ADD CONSTRAINT "payments_refunded_has_reason" CHECK ("status" <> 'REFUNDED' OR ("refund_reason" IS NOT NULL AND "refunded_at" IS NOT NULL)),
    ADD CONSTRAINT "payments_succeeded_has_time" CHECK ("status" NOT IN ('SUCCEEDED', 'REFUNDED') OR "paid_at" IS NOT NULL);

-- (Compared as text: a value added by ALTER TYPE cannot be used as an enum in the transaction that added it.)

-- I6: an order is paid by at most one payment that keeps its money; every other one is owed back.
CREATE UNIQUE INDEX "payments_one_kept_per_order" ON "payments"("order_id") WHERE "status" = 'SUCCEEDED' AND "refund_reason" IS NULL;

-- The sweeper looks for owed Redis mirrors every second: only the few owed rows are indexed.
CREATE INDEX "orders_redis_owed_idx" ON "orders"("id") WHERE "redis_owed";

ALTER TABLE "users"
    ADD CONSTRAINT "users_expired_orders_nonnegative" CHECK ("expired_orders" >= 0);
