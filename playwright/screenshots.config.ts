import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// `npm run screenshots`: the sale page in its four states, in Chinese, on a desktop and a phone,
// written to docs/screenshots/ (scripts/test.ts starts the production build and the workers first).
export default defineConfig({
  ...base,
  testMatch: ["auth.setup.ts", "screenshots.shots.ts"],
  workers: 1,
  reporter: [["list"], ["json", { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ?? "../.data/test-reports/screenshots.json" }]],
  use: { ...base.use, locale: "zh-CN", timezoneId: "Asia/Shanghai" },
  projects: [
    // The sign-in setup reads the English labels.
    { name: "setup", testMatch: /auth\.setup\.ts/, use: { locale: "en-US" } },
    { name: "screenshots", testMatch: /screenshots\.shots\.ts/, dependencies: ["setup"] },
  ],
});
