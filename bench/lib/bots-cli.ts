// The bots' own process (started by startBots in bench/lib/bots.ts): runs them until SIGTERM, then
// prints the summary as the last line of stdout.
import { runBots, type BotOptions } from "@/bench/lib/bots";

const options = JSON.parse(process.argv[2] ?? "{}") as BotOptions;
const stopped = new Promise<void>((resolve) => process.once("SIGTERM", () => resolve()));
const summary = await runBots(options, stopped);
console.log(JSON.stringify(summary));
process.exit(0);
