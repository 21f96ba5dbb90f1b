-- A shop-wide order number, assigned when the worker writes the order (the admin list sorts by it).
ALTER TABLE "orders" ADD COLUMN "number" SERIAL NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "orders_number_key" ON "orders"("number");
