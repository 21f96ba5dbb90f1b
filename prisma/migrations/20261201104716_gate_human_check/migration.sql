-- CreateEnum
CREATE TYPE "HumanCheck" AS ENUM ('OFF', 'REQUIRED');

-- AlterTable
ALTER TABLE "activities" ADD COLUMN     "captcha_difficulty" INTEGER NOT NULL DEFAULT 5000,
ADD COLUMN     "human_check" "HumanCheck" NOT NULL DEFAULT 'OFF';

-- A difficulty a browser can solve in seconds, and not a trivial one.
ALTER TABLE "activities" ADD CONSTRAINT "activities_captcha_difficulty_check" CHECK ("captcha_difficulty" BETWEEN 100 AND 10000000);
