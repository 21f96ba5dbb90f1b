import http from "node:http";
import type { HeldTicket } from "@/bench/lib/buyers";
import type { Shopper } from "@/bench/lib/sessions";
import { Counter, Samples, round, type LatencySummary } from "@/bench/lib/stats";

export interface WatchSummary {
  browsers: number;
  requests: { progress: number; ticket: number; perSec: number };
  latency: { progress: LatencySummary; ticket: LatencySummary };
  /** Final answers the owners saw through GET /api/tickets/{id}. */
  seen: { CONFIRMED: number; REJECTED: number; unfinished: number };
  /** From the 202 to the shopper seeing the final state. */
  timeToAnswer: LatencySummary;
  errors: Record<string, number>;
}

interface Browser {
  t: HeldTicket;
  nextProgress: number;
  nextTicket: number;
  ticketOn: boolean;
  busy: boolean;
  done: boolean;
}

/**
 * Browsers of shoppers holding a ticket, polling as the buy panel does: the shared progress every
 * second, and their own ticket every 500 ms once the queue reaches them (ahead = 0), until final.
 */
export class WaitingBrowsers {
  private browsers: Browser[] = [];
  private agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private progressLat = new Samples();
  private ticketLat = new Samples();
  private answer = new Samples();
  private errors = new Counter();
  private seen = { CONFIRMED: 0, REJECTED: 0 };
  private timer?: NodeJS.Timeout;
  private started = 0;
  private lastRequest = 0;
  private url: URL;

  constructor(
    baseUrl: string,
    private activityId: string,
    private shoppers: Shopper[],
    private max: number,
  ) {
    this.url = new URL(baseUrl);
  }

  add(t: HeldTicket) {
    if (this.browsers.length >= this.max) return;
    if (!this.started) this.start();
    this.browsers.push({
      t,
      nextProgress: performance.now(),
      nextTicket: 0,
      ticketOn: false,
      busy: false,
      done: false,
    });
  }

  private start() {
    this.started = performance.now();
    this.timer = setInterval(() => this.tick(), 20);
  }

  private tick() {
    const now = performance.now();
    for (const b of this.browsers) {
      if (b.done || b.busy) continue;
      if (b.ticketOn && now >= b.nextTicket) void this.pollTicket(b);
      else if (now >= b.nextProgress) void this.pollProgress(b);
    }
  }

  private async pollProgress(b: Browser) {
    b.busy = true;
    b.nextProgress = performance.now() + 1000;
    const r = await this.get(`/api/activities/${this.activityId}/progress`, undefined, this.progressLat);
    b.busy = false;
    const served = (r?.body as { served?: number } | undefined)?.served;
    if (typeof served === "number" && Math.max(0, b.t.sequence - served - 1) === 0 && !b.ticketOn) {
      b.ticketOn = true;
      b.nextTicket = performance.now();
    }
  }

  private async pollTicket(b: Browser) {
    b.busy = true;
    b.nextTicket = performance.now() + 500;
    const r = await this.get(`/api/tickets/${b.t.ticketId}`, this.shoppers[b.t.shopper]!.cookie, this.ticketLat);
    b.busy = false;
    const status = (r?.body as { status?: string } | undefined)?.status;
    if (status === "CONFIRMED" || status === "REJECTED") {
      this.seen[status]++;
      this.answer.add(Date.now() - b.t.admittedAt);
      b.done = true;
    }
  }

  private get(
    path: string,
    cookie: string | undefined,
    lat: Samples,
  ): Promise<{ status: number; body: unknown } | null> {
    const t0 = performance.now();
    return new Promise((resolve) => {
      const req = http.get(
        {
          host: this.url.hostname,
          port: this.url.port,
          path,
          agent: this.agent,
          headers: cookie ? { cookie } : {},
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            this.lastRequest = performance.now();
            lat.add(this.lastRequest - t0);
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) this.errors.add(`${path.split("/")[2]} ${res.statusCode}`);
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
            } catch {
              resolve({ status: res.statusCode ?? 0, body: undefined });
            }
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (e) => {
        this.errors.add(`socket ${e.message}`);
        resolve(null);
      });
    });
  }

  /** Waits until every browser saw its answer, or the deadline. */
  async finish(deadlineMs: number): Promise<WatchSummary> {
    const end = Date.now() + deadlineMs;
    while (Date.now() < end && this.browsers.some((b) => !b.done)) await new Promise((r) => setTimeout(r, 50));
    clearInterval(this.timer);
    while (this.browsers.some((b) => b.busy) && Date.now() < end + 11_000) await new Promise((r) => setTimeout(r, 20));
    this.agent.destroy();
    const seconds = this.started && this.lastRequest > this.started ? (this.lastRequest - this.started) / 1000 : 1;
    return {
      browsers: this.browsers.length,
      requests: {
        progress: this.progressLat.count,
        ticket: this.ticketLat.count,
        perSec: round((this.progressLat.count + this.ticketLat.count) / seconds, 0),
      },
      latency: { progress: this.progressLat.summary(), ticket: this.ticketLat.summary() },
      seen: { ...this.seen, unfinished: this.browsers.filter((b) => !b.done).length },
      timeToAnswer: this.answer.summary(),
      errors: this.errors.counts as Record<string, number>,
    };
  }
}
