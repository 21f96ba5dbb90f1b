import { test as base, expect } from "@playwright/test";

// Every spec imports `test` from here: a test fails when its pages log a console error or throw
// (a React hydration error such as #418 arrives as one of these). A failed HTTP status is not a
// script error: Chromium's "Failed to load resource" lines for refusals the test expects are left out.

export interface GuardOptions {
  /** Console errors a test provokes on purpose (e.g. an error boundary logging what it caught). */
  allowedConsoleErrors: RegExp[];
}

const NETWORK_STATUS = /^Failed to load resource: the server responded with a status of \d{3}/;

export const test = base.extend<GuardOptions & { consoleGuard: void }>({
  allowedConsoleErrors: [[], { option: true }],
  consoleGuard: [
    async ({ context, allowedConsoleErrors }, use, testInfo) => {
      const problems: string[] = [];
      const watch = (page: import("@playwright/test").Page) => {
        page.on("pageerror", (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
        page.on("console", (m) => {
          if (m.type() !== "error") return;
          const text = m.text();
          if (NETWORK_STATUS.test(text) || allowedConsoleErrors.some((re) => re.test(text))) return;
          problems.push(`console error on ${page.url()}: ${text}`);
        });
      };
      context.pages().forEach(watch);
      context.on("page", watch);
      await use();
      if (problems.length) {
        await testInfo.attach("console-errors", { body: problems.join("\n"), contentType: "text/plain" });
      }
      expect(problems, "the pages logged errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
