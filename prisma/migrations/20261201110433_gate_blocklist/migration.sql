-- CreateEnum
CREATE TYPE "BlockKind" AS ENUM ('USER', 'IP', 'EMAIL_DOMAIN');

-- CreateTable
CREATE TABLE "blocklist" (
    "id" TEXT NOT NULL,
    "kind" "BlockKind" NOT NULL,
    "value" TEXT NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "created_by_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "blocklist_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "blocklist_kind_value_key" ON "blocklist"("kind", "value");
