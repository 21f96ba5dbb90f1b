// `npm run mail-sink`: a local SMTP server on loopback that prints every message it receives, for
// demos (set SMTP_URL=smtp://127.0.0.1:1025 for the web process). Nothing leaves the machine.
// `npm run mail-sink -- 0` listens on a free port.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

const port = Number(process.argv[2] ?? 1025);
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  size: 1024 * 1024,
  onData(stream, session, callback) {
    let raw = "";
    stream.on("data", (c: Buffer) => (raw += c.toString("utf8")));
    stream.on("end", () => {
      console.log(`\n── mail for ${session.envelope.rcptTo.map((r) => r.address).join(", ")} ──\n${raw}`);
      callback();
    });
  },
});
// Port 0 takes a free port; the line names the one bound (the waitlist mail test reads it).
server.listen(port, "127.0.0.1", () => {
  const bound = (server.server.address() as AddressInfo).port;
  console.log(`[mail-sink] listening on smtp://127.0.0.1:${bound}`);
});
