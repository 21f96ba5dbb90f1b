-- Split hot stock (issue 12): a sale's Redis stock counter may be split into segments, each under
-- its own hash tag so a Redis Cluster spreads them over its shards. 1 (the default) is not split.

-- AlterTable
ALTER TABLE "activities" ADD COLUMN     "stock_segments" INTEGER NOT NULL DEFAULT 1;

-- AddCheckConstraints (hand-written: the Prisma schema cannot express CHECK constraints)
ALTER TABLE "activities"
    ADD CONSTRAINT "activities_stock_segments_range" CHECK ("stock_segments" BETWEEN 1 AND 16);
