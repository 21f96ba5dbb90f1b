-- Channel allocation (issue 13, item 3): a sale's stock split into sales channels (web, app,
-- partners), partners' API keys, and the channel each order came through.

-- AlterTable
ALTER TABLE "activities" ADD COLUMN     "channel_borrow_after_sec" INTEGER;

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "channel" TEXT;

-- CreateTable
CREATE TABLE "sale_channels" (
    "activity_id" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "share" INTEGER NOT NULL,
    "volume" INTEGER NOT NULL DEFAULT 0,
    "conversion" INTEGER NOT NULL DEFAULT 0,
    "aov" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "sale_channels_pkey" PRIMARY KEY ("activity_id","channel")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMP(3),
    "last_used_at" TIMESTAMP(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_channel_idx" ON "api_keys"("channel");

-- AddForeignKey
ALTER TABLE "sale_channels" ADD CONSTRAINT "sale_channels_activity_id_fkey" FOREIGN KEY ("activity_id") REFERENCES "activities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddCheckConstraints (hand-written: the Prisma schema cannot express CHECK constraints)
ALTER TABLE "sale_channels"
    ADD CONSTRAINT "sale_channels_share_nonnegative" CHECK ("share" >= 0),
    ADD CONSTRAINT "sale_channels_conversion_range" CHECK ("conversion" BETWEEN 0 AND 1000);
ALTER TABLE "activities"
    ADD CONSTRAINT "activities_channel_borrow_after_range" CHECK ("channel_borrow_after_sec" IS NULL OR "channel_borrow_after_sec" >= 0);
