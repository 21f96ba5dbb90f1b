// How fast the core this process runs on is right now: CPU time (not wall time, so waiting for the core
// does not count) of a fixed mix of what the servers do per request (JSON both ways, an HMAC, short-lived
// objects), best of several rounds after a warm-up. Prints {"nsPerOp": N}. Used by bench/lib/speed.ts.
import { createHmac, createSecretKey } from "node:crypto";

const key = createSecretKey(Buffer.from("speed-probe-key-speed-probe-key!"));
let sink = 0;
function op(i) {
  const text = JSON.stringify({ quantity: 1, idempotencyKey: `k-${i}-0123456789abcdef`, token: "t".repeat(43), n: i });
  const parsed = JSON.parse(text);
  sink += createHmac("sha256", key).update(`${parsed.idempotencyKey}:${parsed.n}`).digest("base64url").length;
}
const OPS = 4000;
let best = Infinity;
for (let round = 0; round < 8; round++) {
  const start = process.cpuUsage();
  for (let i = 0; i < OPS; i++) op(i);
  const used = process.cpuUsage(start);
  if (round >= 2) best = Math.min(best, ((used.user + used.system) * 1000) / OPS);
}
process.stdout.write(JSON.stringify({ nsPerOp: Math.round(best), sink: sink > 0 }) + "\n");
