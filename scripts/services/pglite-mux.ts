// Makes @electric-sql/pglite-socket 0.2.17's connection multiplexer safe for concurrent clients (the
// bugs, measurements and the patch offered upstream: docs/pglite-socket-mux.md). The server gets a proxy
// of the PGlite instance that stays "in transaction" until the backend has sent ReadyForQuery for the
// current client's query cycle, and that answers a failed message with an error instead of throwing.
import type { PGlite } from "@electric-sql/pglite";
import { protocol } from "@electric-sql/pglite";

/** Follows the backend's replies across chunks (pglite's own wire parser) and keeps the last message's name. */
class ResponseTracker {
  private parser = new protocol.Parser();
  private last = "readyForQuery"; // nothing run yet: as good as ready

  feed(chunk: Uint8Array): void {
    this.parser.parse(chunk, (message) => (this.last = message.name));
  }

  /** The backend finished the client's query cycle. */
  get ready(): boolean {
    return this.last === "readyForQuery";
  }

  /** The backend now waits for this client's CopyData. */
  get inCopyIn(): boolean {
    return this.last === "copyInResponse";
  }

  reset(): void {
    this.parser = new protocol.Parser();
    this.last = "readyForQuery";
  }
}

/** ErrorResponse (+ ReadyForQuery) so a client whose message blew up gets an error rather than silence. */
// By hand: pg-protocol and PGlite's copy of it serialise only frontend messages.
function errorReply(message: string, status: "I" | "T" | null): Uint8Array {
  const frame = (type: string, body: string) => {
    const out = Buffer.alloc(5 + Buffer.byteLength(body));
    out.write(type);
    out.writeInt32BE(out.length - 1, 1);
    out.write(body, 5);
    return out;
  };
  const error = frame("E", `SERROR\0VERROR\0CXX000\0M${message.split("\n")[0]!.slice(0, 500)}\0\0`);
  return status ? Buffer.concat([error, frame("Z", status)]) : error;
}

type StreamOptions = Parameters<PGlite["execProtocolRawStream"]>[1];

/** Wraps `db` for PGLiteSocketServer (see the file comment). Use the returned object only for the server. */
export function multiplexSafe(db: PGlite, log: (line: string) => void = console.error): PGlite {
  const tracker = new ResponseTracker();

  const execProtocolRawStream = async (message: Uint8Array, opts: StreamOptions): Promise<void> => {
    try {
      await db.execProtocolRawStream(message, {
        ...opts,
        onRawData: (data: Uint8Array) => {
          tracker.feed(data);
          opts.onRawData(data);
        },
      });
    } catch (err) {
      // Rethrowing would wedge the library's queue (it returns without clearing its "processing" flag).
      log(`pglite: message ${JSON.stringify(String.fromCharCode(message[0] ?? 0))} failed: ${String(err)}`);
      tracker.reset();
      let inTx = false;
      try {
        inTx = db.isInTransaction();
      } catch {
        /* the backend is in a bad way; the error below is what matters */
      }
      const isStartup = message[0] === 0;
      opts.onRawData(errorReply(`pglite: ${String(err)}`, isStartup ? null : inTx ? "T" : "I"));
    }
  };

  // The library calls exec("ROLLBACK") when the client that holds the backend disconnects. That
  // client may also have left an unfinished batch or COPY behind, which must be closed first or the
  // backend would swallow the next client's messages.
  const exec = async (sql: string, options?: Parameters<PGlite["exec"]>[1]) => {
    if (sql.trim().toUpperCase() !== "ROLLBACK") return db.exec(sql, options);
    await db.runExclusive(async () => {
      const sink = { onRawData: (d: Uint8Array) => tracker.feed(d) };
      if (tracker.inCopyIn) await db.execProtocolRawStream(protocol.serialize.copyFail("client disconnected"), sink);
      if (!tracker.ready) await db.execProtocolRawStream(protocol.serialize.sync(), sink);
      if (db.isInTransaction()) await db.execProtocolRawStream(protocol.serialize.query("ROLLBACK"), sink);
      tracker.reset();
    });
    return [];
  };

  // Hold the backend for the current client until its query cycle (and transaction) is over.
  const isInTransaction = () => !tracker.ready || db.isInTransaction();

  return new Proxy(db, {
    get(target, prop) {
      if (prop === "execProtocolRawStream") return execProtocolRawStream;
      if (prop === "exec") return exec;
      if (prop === "isInTransaction") return isInTransaction;
      // PGlite keeps its state in #private fields, so methods must run with the real instance as `this`.
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
