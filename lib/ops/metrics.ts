import "server-only";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RedisClient } from "@/lib/redis-connect";
import { ACTIVE_SET, readWorkerGroup } from "@/lib/flash/store";
import { errorText, log } from "@/lib/log";

/*
 * Prometheus metrics of this process (prom-client), served on /metrics of the web process and of
 * a worker's health listener (lib/ops/http.ts). One registry per process, kept on globalThis so a
 * module evaluated twice (the Next.js bundle and the hot server) never registers a name twice.
 * Recording on the admission path is O(1): a histogram observe, and a refusal added to a plain map
 * that the refusal counter takes in when it is read (a scrape).
 */
function build() {
  const registry = new Registry();
  const registers = [registry];
  const seconds = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
  const sizes = [1, 5, 10, 25, 50, 100, 200, 500, 1000, 5000];
  const admission = new Histogram({
    name: "flash_admission_seconds",
    help: "Admission script time (Redis round trip included), seconds",
    buckets: seconds,
    registers,
  });
  // Refusals are tallied in a plain map and added to the counter when it is read: prom-client's labelled
  // inc() hashes its labels on every call, and the sold-out crowd is thousands of refusals a second.
  const pendingRefusals = new Map<string, number>();
  const refusals = new Counter({
    name: "flash_refusals_total",
    help: "Buys refused, by code (in process or by the admission script)",
    labelNames: ["code"],
    registers,
    collect() {
      for (const [code, n] of pendingRefusals) this.inc({ code }, n);
      pendingRefusals.clear();
    },
  });
  const batchSize = new Histogram({
    name: "worker_batch_size",
    help: "Tickets per batch an order worker wrote",
    buckets: sizes,
    registers,
  });
  const batchErrors = new Counter({
    name: "worker_batch_errors_total",
    help: "Order-worker batches that failed (their entries stay pending and are retried)",
    registers,
  });
  const deadLetters = new Counter({
    name: "worker_dead_letters_total",
    help: "Stream entries an order worker gave up on after WORKER_DEAD_LETTER_AFTER attempts (ticket REJECTED FAILED)",
    registers,
  });
  const rebuilds = new Counter({
    name: "flash_redis_rebuilds_total",
    help: "Rebuilds of a sale's Redis state from PostgreSQL, by reason (NOT_READY, EPOCH, BEHIND, NODE, FORCED, DRIFT)",
    labelNames: ["reason"],
    registers,
  });
  const drift = new Counter({
    name: "flash_reconcile_drift_total",
    help: "Differences reconciliation found between a sale's Redis state and PostgreSQL, by kind",
    labelNames: ["kind"],
    registers,
  });
  const pagesAnswers = new Counter({
    name: "pages_requests_total",
    help: "Requests the web process passed to its pages process (Next.js: pages, sign-in, admin), by the answer's status class (2xx…5xx); 502 and 503 keep their code (the pages process down, or answering so)",
    labelNames: ["status"],
    registers,
  });
  const pagesSeconds = new Histogram({
    name: "pages_answer_seconds",
    help: "Time until the pages process's answer began (its status and headers), seconds",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  return {
    registry, admission, refusals, pendingRefusals, batchSize, batchErrors, deadLetters, rebuilds, drift, pagesAnswers, pagesSeconds,
  };
}

const g = globalThis as unknown as { flashMetrics?: ReturnType<typeof build> };
const m = (g.flashMetrics ??= build());

export const metricsRegistry = m.registry;

export function observeAdmission(ms: number): void {
  m.admission.observe(ms / 1000);
}

export function countRefusal(code: string): void {
  m.pendingRefusals.set(code, (m.pendingRefusals.get(code) ?? 0) + 1);
}

export function observeBatch(size: number): void {
  m.batchSize.observe(size);
}

export function countBatchError(): void {
  m.batchErrors.inc();
}

export function countDeadLetter(): void {
  m.deadLetters.inc();
}

export function countRebuild(reason: string): void {
  m.rebuilds.labels(reason).inc();
}

export function countDrift(kind: string, n = 1): void {
  m.drift.labels(kind).inc(n);
}

/** One answer of the pages process (lib/http/proxy.ts): its status (by class, so the label set stays small) and time. */
export function observePagesAnswer(status: number, seconds: number): void {
  // The proxy's own refusals (the pages process down or gone) keep their code: they are the ones to alert on.
  const label = status === 502 || status === 503 ? String(status) : `${Math.floor(status / 100)}xx`;
  m.pagesAnswers.labels(label).inc();
  m.pagesSeconds.observe(seconds);
}

/**
 * Stream lag per active sale (entries not yet delivered to the workers, plus those delivered and
 * not acknowledged), read from Redis at scrape time. Registered once, by the process that serves
 * /metrics with a Redis connection.
 */
export function watchStreams(redis: RedisClient): void {
  if (m.registry.getSingleMetric("flash_stream_lag")) return;
  new Gauge({
    name: "flash_stream_lag",
    help: "Per active sale: stream entries not yet read by the workers (lag) and read but unacknowledged (pending)",
    labelNames: ["activity", "kind"],
    registers: [m.registry],
    async collect() {
      this.reset();
      try {
        for (const id of await redis.smembers(ACTIVE_SET)) {
          const group = await readWorkerGroup(redis, id);
          if (!group) continue;
          if (group.lag !== null) this.labels(id, "lag").set(group.lag);
          this.labels(id, "pending").set(group.pending);
        }
      } catch (e) {
        log.warn({ component: "metrics", err: errorText(e) }, "reading the stream lag failed");
      }
    },
  });
}
