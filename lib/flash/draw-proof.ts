// The draw of fair entry (docs/fair-entry.md), as anyone recomputes it: the server draws with this
// code, `npm run verify-draw` and the verification page check with it. No server-only import: it
// runs in Node and in the browser alike (Web Crypto's SHA-256, global in both).

/** What the shop publishes about a sale's draw (GET /api/activities/{id}/draw). */
export interface PublishedDraw {
  activityId: string;
  /** SHA-256 of the seed's bytes, hex: published before the pre-queue opens. */
  commitment: string;
  /** When the pre-queue opens and the draw is made (the sale's start), ISO. */
  opensAt: string;
  drawAt: string;
  /** Null until the draw is made at the start. */
  drawnAt: string | null;
  /** The secret seed (64 hex), revealed once drawn. */
  seed: string | null;
  /** SHA-256 over the sorted entry ids, once drawn. */
  listDigest: string | null;
  /** Every entry once drawn (pseudonym and drawn position); before that only how many there are. */
  entries: { entryId: string; position: number }[];
  entryCount: number;
}

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return hex(await globalThis.crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

export function hexBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export const SEED_PATTERN = /^[0-9a-f]{64}$/;

/** The commitment to a seed: SHA-256 of its 32 bytes (not of its hex text). */
export function commitmentOf(seed: string): Promise<string> {
  return sha256Hex(hexBytes(seed));
}

/** The digest of the entry list: every entry's draw key depends on all of them. */
export function listDigestOf(entryIds: readonly string[]): Promise<string> {
  return sha256Hex([...entryIds].sort().join("\n"));
}

/**
 * The drawn order: each entry's key is SHA-256("seed:listDigest:entryId"); ascending keys are
 * positions 1, 2, … (a tie, never seen in practice, falls back to the entry id). Returns the entry
 * ids in drawn order.
 */
export async function drawOrder(seed: string, entryIds: readonly string[]): Promise<{ listDigest: string; order: string[] }> {
  const listDigest = await listDigestOf(entryIds);
  const keyed = await Promise.all(entryIds.map(async (id) => ({ id, key: await sha256Hex(`${seed}:${listDigest}:${id}`) })));
  keyed.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.id < y.id ? -1 : 1));
  return { listDigest, order: keyed.map((k) => k.id) };
}

export type VerifyProblem = "NOT_DRAWN" | "COMMITMENT" | "LIST_DIGEST" | "POSITIONS";

/** Recomputes a published draw; an empty list means it checks out. */
export async function verifyDraw(d: PublishedDraw): Promise<{ problems: VerifyProblem[]; mismatched: string[] }> {
  if (!d.seed || !d.drawnAt) return { problems: ["NOT_DRAWN"], mismatched: [] };
  const problems: VerifyProblem[] = [];
  if (!SEED_PATTERN.test(d.seed) || (await commitmentOf(d.seed)) !== d.commitment) problems.push("COMMITMENT");
  const { listDigest, order } = await drawOrder(d.seed, d.entries.map((e) => e.entryId));
  if (d.listDigest !== listDigest) problems.push("LIST_DIGEST");
  const expected = new Map(order.map((id, i) => [id, i + 1]));
  const mismatched = d.entries.filter((e) => expected.get(e.entryId) !== e.position).map((e) => e.entryId);
  if (mismatched.length || d.entries.length !== d.entryCount) problems.push("POSITIONS");
  return { problems, mismatched };
}

/** The command that checks a sale's draw from a terminal (scripts/verify-draw.ts): a command, not prose. */
export const verifyCommand = (activityId: string) => `npm run verify-draw -- ${activityId}`;
