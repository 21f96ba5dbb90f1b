/** One CSV record: RFC 4180 quoting; text starting like a formula gets a leading ' so a spreadsheet shows it as text. */
export function csvLine(values: (string | number)[]): string {
  return (
    values
      .map((v) => {
        if (typeof v === "number") return String(v);
        const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
        return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
      })
      .join(",") + "\r\n"
  );
}
