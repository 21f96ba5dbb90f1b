/**
 * Units offered for sale: the total less the safety share kept for returns and damage. With a
 * stock of at least 1 and at most 30 % kept back, at least one unit is always offered.
 */
export function sellableUnits(totalStock: number, safetyStockPct: number): number {
  return totalStock - Math.floor((totalStock * safetyStockPct) / 100);
}
