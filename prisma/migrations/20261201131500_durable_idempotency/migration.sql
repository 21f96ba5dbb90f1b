-- Durability (issue 11): the buyer's idempotency key is stored with the order, unique per user and
-- sale, and each sale records the generation of its Redis state (raised by every rebuild).

-- AlterTable
ALTER TABLE "activities" ADD COLUMN     "redis_epoch" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "idempotency_key" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "orders_activity_id_user_id_idempotency_key_key" ON "orders"("activity_id", "user_id", "idempotency_key");
