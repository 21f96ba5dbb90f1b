-- Fair entry (issue 13, docs/fair-entry.md): a per-sale pre-queue window, a committed draw, and its entries.

-- AlterTable
ALTER TABLE "activities" ADD COLUMN     "prequeue_minutes" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "draws" (
    "activity_id" TEXT NOT NULL,
    "seed" TEXT NOT NULL,
    "commitment" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "drawn_at" TIMESTAMP(3),
    "list_digest" TEXT,
    "hold_until" TIMESTAMP(3),

    CONSTRAINT "draws_pkey" PRIMARY KEY ("activity_id")
);

-- CreateTable
CREATE TABLE "draw_entries" (
    "activity_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "entry_id" TEXT NOT NULL,
    "joined_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "position" INTEGER,
    "sequence" INTEGER,
    "reserved" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "draw_entries_pkey" PRIMARY KEY ("activity_id","user_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "draw_entries_entry_id_key" ON "draw_entries"("entry_id");

-- CreateIndex
CREATE UNIQUE INDEX "draw_entries_activity_id_position_key" ON "draw_entries"("activity_id", "position");

-- AddForeignKey
ALTER TABLE "draws" ADD CONSTRAINT "draws_activity_id_fkey" FOREIGN KEY ("activity_id") REFERENCES "activities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "draw_entries" ADD CONSTRAINT "draw_entries_activity_id_fkey" FOREIGN KEY ("activity_id") REFERENCES "activities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "draw_entries" ADD CONSTRAINT "draw_entries_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A window up to an hour; the seed is 32 bytes (64 hex) and its commitment a SHA-256 (64 hex).
ALTER TABLE "activities" ADD CONSTRAINT "activities_prequeue_minutes_check" CHECK ("prequeue_minutes" BETWEEN 0 AND 60);
ALTER TABLE "draws" ADD CONSTRAINT "draws_seed_check" CHECK ("seed" ~ '^[0-9a-f]{64}$' AND "commitment" ~ '^[0-9a-f]{64}$');
ALTER TABLE "draw_entries" ADD CONSTRAINT "draw_entries_reserved_check" CHECK ("reserved" >= 0);
