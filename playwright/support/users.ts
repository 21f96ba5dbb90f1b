// The seeded accounts (scripts/seed.ts).
export const ADMIN = { email: "admin@flash.test", password: "admin-pass-2026" };
export const SHOPPER_PASSWORD = "shopper-pass-2026";
export const shopper = (n: number) => ({ email: `shopper${n}@flash.test`, password: SHOPPER_PASSWORD });
export const STORAGE = {
  admin: "playwright/.auth/admin.json",
  shopper1: "playwright/.auth/shopper1.json",
  shopper2: "playwright/.auth/shopper2.json",
};
