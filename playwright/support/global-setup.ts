import { requireLocalDatabase, testDb } from "./db";

export default async function globalSetup() {
  requireLocalDatabase();
  // npm test seeds before starting the server; make sure it did.
  const admin = await testDb().user.findUnique({ where: { email: "admin@flash.test" } });
  if (!admin) throw new Error("the test database is not seeded (scripts/seed.ts)");
  await testDb().$disconnect();
}
