// Makes @electric-sql/pglite-socket 0.2.17's connection multiplexer safe for concurrent clients.
//
// How the library multiplexes: every client connection shares the ONE PGlite backend. Each wire
// message is queued separately on a global FIFO and run one at a time; the queue sticks to the
// same client only while `db.isInTransaction()` is true (an explicit BEGIN ... COMMIT block).
//
// Why that is not enough: the extended query protocol (what pg / Prisma use for parameterised
// queries) is a batch Parse, Bind, Describe, Execute, Sync, and the backend keeps its unnamed
// statement/portal between those messages while isInTransaction() is still false. When a batch
// reaches the server in more than one TCP read (large parameters, a busy socket), another
// client's Parse/Bind can slip in between and the first client gets the other's result: measured
// 19 wrong rows out of 100 with 20 clients sending 300 kB parameters. Also, if running a message
// throws, the library's queue stays marked "processing" forever and the server stops answering.
//
// The fix, without forking the library: hand PGLiteSocketServer a proxy of the PGlite instance
// whose isInTransaction() is also true until the backend has sent ReadyForQuery for the current
// client's cycle (tracked by framing the response stream), which is exactly when a real server
// would accept the next query cycle. Errors are answered as protocol errors instead of thrown.
import type { PGlite } from "@electric-sql/pglite";
import { protocol } from "@electric-sql/pglite";

const Z = 0x5a; // ReadyForQuery
const G = 0x47; // CopyInResponse: the backend now waits for this client's CopyData

/** Follows backend message framing across chunks and remembers the type of the last complete message. */
class ResponseTracker {
  private header = new Uint8Array(5);
  private headerLen = 0;
  private remaining = 0;
  private lastType = Z; // nothing run yet: as good as ready

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        continue;
      }
      this.header[this.headerLen++] = chunk[i++]!;
      if (this.headerLen === 5) {
        this.lastType = this.header[0]!;
        const len = new DataView(this.header.buffer).getInt32(1);
        this.remaining = Math.max(0, len - 4);
        this.headerLen = 0;
      }
    }
  }

  /** The backend finished the client's query cycle (its last message was ReadyForQuery). */
  get ready(): boolean {
    return this.headerLen === 0 && this.remaining === 0 && this.lastType === Z;
  }

  get inCopyIn(): boolean {
    return this.headerLen === 0 && this.remaining === 0 && this.lastType === G;
  }

  reset(): void {
    this.headerLen = 0;
    this.remaining = 0;
    this.lastType = Z;
  }
}

/** ErrorResponse (+ ReadyForQuery) so a client whose message blew up gets an error rather than silence. */
function errorReply(message: string, status: "I" | "T" | null): Uint8Array {
  const enc = new TextEncoder();
  const fields = `SERROR\0VERROR\0CXX000\0M${message.split("\n")[0]!.slice(0, 500)}\0`;
  const body = enc.encode(fields + "\0");
  const out = new Uint8Array(1 + 4 + body.length + (status ? 6 : 0));
  const view = new DataView(out.buffer);
  out[0] = 0x45; // 'E'
  view.setInt32(1, 4 + body.length);
  out.set(body, 5);
  if (status) {
    const at = 5 + body.length;
    out[at] = Z;
    view.setInt32(at + 1, 5);
    out[at + 5] = status.charCodeAt(0);
  }
  return out;
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
