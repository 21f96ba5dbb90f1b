// Shared by server and client components: money is stored in minor units.
export function formatMoney(minor: number, currency = "CNY"): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(minor / 100);
}
