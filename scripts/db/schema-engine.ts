// Drives Prisma's own schema engine (the WASM build shipped inside the `prisma` package) against
// PostgreSQL through @prisma/adapter-pg, so migrations work where the native engine binary cannot
// be downloaded. The engine, not this file, writes SQL and the `_prisma_migrations` bookkeeping.
// Hand-written: Prisma 7.10's config has no adapter option, and @prisma/migrate (7.10.0, not
// released with this CLI) would bring its own engine build and all of @prisma/internals.
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { parseSettings } from "../../lib/env.js";
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type ErrorRegistry,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQueryable,
} from "@prisma/driver-adapter-utils";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { MigrationList, SchemaEngine as WasmSchemaEngine, SchemasContainer } from "@prisma/schema-engine-wasm";

type Log = (line: string) => void;

let engineClass: Promise<typeof glue.SchemaEngine> | undefined;
/** Instantiates the WASM module once per process: wasm-bindgen keeps module-level state in its glue. */
const loadEngine = () =>
  (engineClass ??= (async () => {
    // The build the installed prisma CLI ships (the one `prisma migrate` itself would run).
    const prismaDir = path.dirname(createRequire(import.meta.url).resolve("prisma/package.json"));
    const wasmPath = path.join(prismaDir, "build", "schema_engine_bg.wasm");
    // The engine's panic hook reports through this global, as in the prisma CLI.
    const panics = { message: "", set_message: (message: string) => void (panics.message = message) };
    (globalThis as Record<string, unknown>).PRISMA_WASM_PANIC_REGISTRY ??= panics;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(await readFile(wasmPath)), {
      "./schema_engine_bg.js": glue as unknown as WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue.SchemaEngine;
  })());

/** Git hash of the prisma-engines build in use. */
export const engineVersion = async () => (await loadEngine(), glue.version());

// ---------------------------------------------------------------------------------------------
// PostgreSQL driver adapter, with the adapter-pg 7.10.1 quirks worked around.

// adapter-pg 7.10.1 cannot map PostgreSQL's one-byte `"char"` type (OID 18), which the engine's
// catalog queries return (contype, relkind, ...), and throws "Unsupported column type char"; the
// engine in turn wants those columns typed Character, a type adapter-pg never produces. So: pg
// reports them as text (OID 25, the parsed value is the same string) and remembers their
// positions by the rows array, which the adapter passes through; queryRaw then retypes them.
const CHAR_OID = 18;
const TEXT_OID = 25;
const charColumns = new WeakMap<unknown[], number[]>();

class CharAsTextClient extends pg.Client {
  // One untyped pass-through override: pg's query() has too many overloads to restate.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const callback =
      typeof args[args.length - 1] === "function" ? (args.pop() as (e: unknown, r?: unknown) => void) : undefined;
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (!(result instanceof Promise)) return result; // submittables (cursors) are not used by the adapter
    const fixed = result.then((res: unknown) => {
      for (const r of (Array.isArray(res) ? res : [res]) as (pg.QueryResult | undefined)[]) {
        const positions: number[] = [];
        r?.fields?.forEach((field, i) => {
          if (field.dataTypeID === CHAR_OID) {
            field.dataTypeID = TEXT_OID;
            positions.push(i);
          }
        });
        if (r && positions.length) charColumns.set(r.rows, positions);
      }
      return res;
    });
    if (!callback) return fixed;
    fixed.then(
      (res) => callback(null, res),
      (err: unknown) => callback(err),
    );
    return undefined;
  }
}

function withCharColumns<T extends SqlQueryable>(queryable: T): T {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => {
    const result = await queryRaw(query);
    for (const i of charColumns.get(result.rows) ?? []) result.columnTypes[i] = ColumnTypeEnum.Character;
    return result;
  };
  return queryable;
}

async function connectPrismaPg(config: pg.PoolConfig): Promise<SqlDriverAdapter> {
  // idleTimeoutMillis 0: the engine holds a session advisory lock on one pooled connection during
  // applyMigrations; the pool must not close that connection before we dispose the adapter.
  const pool = { ...config, Client: CharAsTextClient, idleTimeoutMillis: 0 };
  const adapter = withCharColumns(await new PrismaPg(pool).connect());
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => withCharColumns(await startTransaction(isolationLevel));
  // adapter-pg splits scripts on every ";" (breaking semicolons in strings and function bodies). The
  // native engine sends a migration as one simple-query batch (no bind values), which PostgreSQL
  // runs as a single implicit transaction; do the same.
  adapter.executeScript = async (sql) => void (await adapter.executeRaw({ sql, args: [], argTypes: [] }));
  return adapter;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates the database DATABASE_URL names if it does not exist, as `prisma migrate deploy/dev`
 * do before starting the engine. Returns the database name when it created it.
 */
export async function ensureDatabaseExists(url: string): Promise<string | undefined> {
  const err = await withClient(url, async () => {}).catch((e: { code?: string }) => e);
  if (!err) return undefined;
  if (err.code !== "3D000") throw err; // 3D000: invalid_catalog_name
  const admin = new URL(url);
  const name = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = "/postgres";
  await withClient(admin.toString(), (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return name;
}

/**
 * The factory handed to the engine. `connectToShadowDb` gives the engine an in-memory PGlite of
 * its own: adapter-pg's version connects back to the MAIN database when configured from a URL,
 * and the engine wipes its shadow database, so that would destroy data.
 */
class PgMigrationFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "postgres" as const;
  readonly adapterName = "@prisma/adapter-pg";
  /** Pools and shadow servers not yet released, in the order they were opened. */
  private readonly open = new Set<() => Promise<void>>();

  constructor(
    private readonly url: string,
    private readonly log: Log,
  ) {}

  connect(): Promise<SqlDriverAdapter> {
    return this.track(connectPrismaPg({ connectionString: this.url }));
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
      import("@electric-sql/pglite"),
      import("@electric-sql/pglite-socket"),
    ]);
    const dir = await mkdtemp(path.join(os.tmpdir(), "prisma-shadow-"));
    let db: InstanceType<typeof PGlite> | undefined;
    let server: InstanceType<typeof PGLiteSocketServer> | undefined;
    // Registered before anything exists, so a failure at any point still cleans up.
    const stop = this.once(async () => {
      await server?.stop();
      await db?.close();
      await rm(dir, { recursive: true, force: true });
    });
    try {
      db = await PGlite.create(); // in memory
      // A unix socket in a private directory: no port to pick or race for.
      server = new PGLiteSocketServer({ db, path: path.join(dir, ".s.PGSQL.5432") });
      await server.start();
      // One connection: PGlite runs one query at a time for all clients anyway.
      return await this.track(connectPrismaPg({ host: dir, port: 5432, user: "postgres", max: 1 }), stop);
    } catch (err) {
      await stop();
      throw err;
    }
  }

  /** Registers `release` for close(); the returned function runs it at most once. */
  private once(release: () => Promise<void>): () => Promise<void> {
    let done: Promise<void> | undefined;
    const run = () => {
      this.open.delete(run);
      return (done ??= release());
    };
    this.open.add(run);
    return run;
  }

  /** Releases the adapter's pool, then `after`, on dispose() or close(), whichever comes first. */
  private async track(connecting: Promise<SqlDriverAdapter>, after?: () => Promise<void>): Promise<SqlDriverAdapter> {
    const adapter = await connecting;
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = this.once(async () => {
      try {
        await dispose();
      } finally {
        await after?.();
      }
    });
    return adapter;
  }

  /** Releases whatever the engine did not dispose of itself, newest first (pools before their servers). */
  async close(): Promise<void> {
    for (const release of [...this.open].reverse())
      await release().catch((err: Error) => this.log(`cleanup failed: ${err?.message ?? String(err)}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs in the shape the prisma CLI builds them.

/** Reads a migrations directory exactly as the prisma CLI does before calling the engine. */
export async function readMigrationsList(baseDir: string, shadowDbInitScript = ""): Promise<MigrationList> {
  const lockPath = "migration_lock.toml";
  const lockContent = await readFile(path.join(baseDir, lockPath), "utf8").catch(() => null);
  const entries = await readdir(baseDir, { withFileTypes: true }).catch(() => []);
  const migrationDirectories = await Promise.all(
    entries
      .filter((e) => e.isDirectory())
      .map(async (e) => ({
        path: e.name,
        migrationFile: {
          path: "migration.sql",
          content: await readFile(path.join(baseDir, e.name, "migration.sql"), "utf8").then(
            (value) => ({ tag: "ok" as const, value }),
            (err: Error) => ({ tag: "error" as const, value: err.message }),
          ),
        },
      })),
  );
  migrationDirectories.sort((a, b) => a.path.localeCompare(b.path));
  return { baseDir, lockfile: { path: lockPath, content: lockContent }, shadowDbInitScript, migrationDirectories };
}

/** migration_lock.toml, byte for byte as the prisma CLI writes it. */
export function migrationLockToml(provider: string): string {
  return `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`;
}

// ---------------------------------------------------------------------------------------------

/** A connected engine. Always close() it: it owns database connections and shadow databases. */
export class SchemaEngine {
  private closed = false;

  private constructor(
    private readonly engine: WasmSchemaEngine,
    private readonly factory: PgMigrationFactory,
    private readonly registry: ErrorRegistry,
  ) {}

  /** `schema`: the initial schema, which the engine uses for namespaces. Notices go to `log`. */
  static async open(databaseUrl: string, schema: SchemasContainer, log: Log): Promise<SchemaEngine> {
    const factory = new PgMigrationFactory(databaseUrl, log);
    const bound = bindMigrationAwareSqlAdapterFactory(factory);
    const debug = /schema-?engine|prisma:/i.test(parseSettings().DEBUG ?? "");
    const onLog = (line: string) => debug && console.error(`[schema-engine] ${line}`);
    const datamodels = schema.files.map((f) => [f.path, f.content] as [string, string]);
    try {
      const engine = await (await loadEngine()).new({ datamodels }, onLog, bound);
      return new SchemaEngine(engine, factory, bound.errorRegistry);
    } catch (err) {
      await factory.close();
      throw translateError(err, bound.errorRegistry);
    }
  }

  /** One engine command, e.g. `run((e) => e.applyMigrations(input))`, with its errors made readable. */
  async run<T>(command: (engine: WasmSchemaEngine) => Promise<T>): Promise<T> {
    try {
      return await command(this.engine);
    } catch (err) {
      throw translateError(err, this.registry);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.engine.free();
    } catch {
      // after a panic the WASM instance is unusable; the connections below still need closing
    }
    await this.factory.close();
  }
}

/** Turns what the WASM engine throws into a readable error, recovering JS errors the adapter raised. */
export function translateError(err: unknown, registry?: ErrorRegistry): Error {
  if (err instanceof WebAssembly.RuntimeError) {
    const panic = (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { message?: string } }).PRISMA_WASM_PANIC_REGISTRY;
    return new Error(`Schema engine panicked: ${panic?.message || err.message}`, { cause: err });
  }
  if (!(err instanceof Error)) return new Error(String(err));
  // JS errors thrown inside adapter code reach the engine as "External error id#N" (registry index).
  const id = /External error id#(\d+)/.exec(err.message)?.[1];
  const original = id === undefined ? undefined : registry?.consumeError(Number(id))?.error;
  if (original instanceof Error)
    return new Error(`${err.message.split("\n")[0]}: ${original.message}`, { cause: original });
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? new Error(`${code}: ${err.message}`, { cause: err }) : err;
}
