// Times in the console are shown in UTC on the server, so a page renders the same for everyone.
export function utc(value: Date | string | null | undefined): string {
  if (!value) return "—";
  const d = typeof value === "string" ? new Date(value) : value;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function statusLabel(status: string): string {
  return status.replace(/_/g, " ").toLowerCase();
}
