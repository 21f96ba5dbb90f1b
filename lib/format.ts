// The one formatter: money and instants for server and client components alike. Callers pass the
// locale and the time zone (components/i18n/format.tsx and lib/i18n/server.ts pick them), so the
// same instant reads the same in the HTML and after hydration.

type Instant = Date | string | number;

const toDate = (v: Instant) => (v instanceof Date ? v : new Date(v));

/** Money is stored in minor units (fen); CNY shows as ¥ in every locale ("CN¥" only confuses). */
export function formatMoney(minor: number, currency: string, locale: string): string {
  return new Intl.NumberFormat(locale, { style: "currency", currency, currencyDisplay: "narrowSymbol" }).format(minor / 100);
}

// The parts every formatter here shares: a two-digit date, and a 24-hour time to the second.
const DAY = { year: "numeric", month: "2-digit", day: "2-digit" } as const;
const CLOCK = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" } as const;

/** Date, time to the second and the zone's label ("2026-12-01 17:14:53 GMT+8"), in `timeZone`. */
export function formatDateTime(value: Instant, locale: string, timeZone: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone, ...DAY, ...CLOCK, timeZoneName: "short" }).format(toDate(value));
}

/** Time of day with the zone's label ("17:14:53 GMT+8"), for figures within one day. */
export function formatClock(value: Instant, locale: string, timeZone: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone, ...CLOCK, timeZoneName: "short" }).format(toDate(value));
}

/** Time of day without the zone ("17:14:53"): chart axes, whose legend names the zone once. */
export function formatTick(value: Instant, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, ...CLOCK }).format(toDate(value));
}

/** The zone's short label alone ("GMT+8"). */
export function zoneLabel(timeZone: string, locale: string, at: Instant = Date.now()): string {
  const parts = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "short" }).formatToParts(toDate(at));
  return parts.find((p) => p.type === "timeZoneName")?.value ?? timeZone;
}

/** A wall-clock time typed in `timeZone` ("2026-12-01T17:14[:53]") as an instant; null if not one. */
export function zonedInputToDate(value: string, timeZone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  // The zone's offset at that moment, applied twice to settle across a DST change.
  let t = asUtc - offsetMs(asUtc, timeZone);
  t = asUtc - offsetMs(t, timeZone);
  return new Date(t);
}

/** An instant as the wall-clock value a datetime-local input shows in `timeZone`, to the second. */
export function dateToZonedInput(value: Instant, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", { timeZone, ...DAY, ...CLOCK })
      .formatToParts(toDate(value))
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

function offsetMs(at: number, timeZone: string): number {
  const wall = dateToZonedInput(at, timeZone);
  return Date.parse(`${wall}Z`) - Math.floor(at / 1000) * 1000;
}

export interface Formatter {
  money(minor: number, currency: string): string;
  dateTime(value: Instant | null | undefined): string;
  clock(value: Instant | null | undefined): string;
  locale: string;
  timeZone: string;
}

/** The functions above bound to one locale and zone; "—" stands for a missing time. */
export function formatter(locale: string, timeZone: string): Formatter {
  return {
    locale,
    timeZone,
    money: (minor, currency) => formatMoney(minor, currency, locale),
    dateTime: (v) => (v == null ? "—" : formatDateTime(v, locale, timeZone)),
    clock: (v) => (v == null ? "—" : formatClock(v, locale, timeZone)),
  };
}
