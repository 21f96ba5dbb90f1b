import "server-only";
import type { PrismaClient } from "@/lib/generated/prisma/client";
import { recordPayments, type PaidNotice, type PaymentOutcome } from "@/lib/orders/lifecycle";

interface Waiting {
  notice: PaidNotice;
  resolve: (o: PaymentOutcome) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for payment notifications: one transaction in flight per process, and every notice that
 * arrives meanwhile joins the next one. A burst of notifications then costs a few transactions instead
 * of one each (which would also queue for the connection pool), and each notice still gets its own
 * outcome only after its transaction committed.
 */
export class PaymentBatcher {
  private queue: Waiting[] = [];
  private running = false;
  private after = new Set<Promise<void>>();

  constructor(
    private prisma: () => PrismaClient,
    private maxBatch = 500,
    private afterBatch?: (notices: PaidNotice[], outcomes: PaymentOutcome[]) => Promise<void>,
  ) {}

  submit(notice: PaidNotice): Promise<PaymentOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ notice, resolve, reject });
      if (!this.running) void this.flush();
    });
  }

  /** Resolves once every follow-up started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.after.size) await Promise.all([...this.after]);
  }

  private async flush(): Promise<void> {
    this.running = true;
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const notices = batch.map((w) => w.notice);
        const outcomes = await recordPayments(this.prisma(), notices);
        batch.forEach((w, i) => w.resolve(outcomes[i]!));
        // Not awaited: the next batch need not wait for it (afterBatch logs its own failures).
        const after = this.afterBatch?.(notices, outcomes);
        if (after) {
          this.after.add(after);
          void after.finally(() => this.after.delete(after));
        }
      } catch (e) {
        batch.forEach((w) => w.reject(e));
      }
    }
    this.running = false;
  }
}
