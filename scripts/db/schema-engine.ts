// Drives Prisma's own schema engine (the WASM build shipped inside the `prisma` package) against
// PostgreSQL through @prisma/adapter-pg, so migrations work where the native engine binary cannot
// be downloaded. The engine, not this file, writes SQL and the `_prisma_migrations` bookkeeping.
import { existsSync, readdirSync, statSync } from "node:fs";
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
  type SqlResultSet,
} from "@prisma/driver-adapter-utils";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import type {
  ApplyMigrationsOutput,
  CreateMigrationInput,
  CreateMigrationOutput,
  DevDiagnosticOutput,
  DiagnoseMigrationHistoryOutput,
  EvaluateDataLossOutput,
  MigrationList,
  SchemaEngine as WasmSchemaEngine,
  SchemaFilter,
  SchemasContainer,
} from "@prisma/schema-engine-wasm";

export type {
  ApplyMigrationsOutput,
  CreateMigrationOutput,
  DevDiagnosticOutput,
  DiagnoseMigrationHistoryOutput,
  EvaluateDataLossOutput,
  MigrationList,
  SchemaFilter,
  SchemasContainer,
};

const require = createRequire(import.meta.url);

/** The engine build the installed prisma CLI ships (the one `prisma migrate` itself would run). */
export const WASM_PATH = path.join(
  path.dirname(require.resolve("prisma/package.json")),
  "build",
  "schema_engine_bg.wasm",
);

let loaded: typeof glue.SchemaEngine | undefined;

/** Instantiates the WASM module once per process: wasm-bindgen keeps module-level state in its glue. */
async function loadEngineClass(): Promise<typeof glue.SchemaEngine> {
  if (loaded) return loaded;
  // The engine's panic hook reports through this global, as in the prisma CLI.
  const panics = { message: "", set_message: (message: string) => void (panics.message = message) };
  (globalThis as Record<string, unknown>).PRISMA_WASM_PANIC_REGISTRY ??= panics;
  const wasmModule = new WebAssembly.Module(await readFile(WASM_PATH));
  const instance = new WebAssembly.Instance(wasmModule, {
    "./schema_engine_bg.js": glue as unknown as WebAssembly.ModuleImports,
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  loaded = glue.SchemaEngine;
  return loaded;
}

/** Git hash of the prisma-engines build in use. */
export async function engineVersion(): Promise<string> {
  await loadEngineClass();
  return glue.version();
}

/** A failure the engine reports to users (P30xx codes and the like), as the CLI prints them. */
export class SchemaEngineError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(code ? `${code}: ${message}` : message);
    this.name = "SchemaEngineError";
  }
}

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

function poolConfig(connection: string | pg.PoolConfig, schema?: string): pg.PoolConfig {
  const base = typeof connection === "string" ? { connectionString: connection } : connection;
  // ?schema=x: the engine writes unqualified names, so point search_path at x as the native engine does.
  const searchPath = schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {};
  // idleTimeoutMillis 0: the engine holds a session advisory lock on one pooled connection during
  // applyMigrations; the pool must not close that connection before we dispose the adapter.
  return { ...base, ...searchPath, Client: CharAsTextClient, idleTimeoutMillis: 0 };
}

/** The `schema` parameter of a Prisma PostgreSQL URL (public when absent). */
function schemaOf(url: string): string | undefined {
  return new URL(url).searchParams.get("schema") ?? undefined;
}

/**
 * adapter-pg splits scripts on every ";" (breaking semicolons in strings, comments and function
 * bodies) and runs the pieces one by one. The native engine sends a migration as one simple-query
 * batch, which PostgreSQL runs as a single implicit transaction; do the same.
 */
function withBatchScripts(adapter: SqlDriverAdapter): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => {
    // No bind values, so pg uses the simple query protocol, which accepts many statements.
    await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
  };
  return adapter;
}

function retypeCharColumns(result: SqlResultSet): SqlResultSet {
  for (const i of charColumns.get(result.rows) ?? []) result.columnTypes[i] = ColumnTypeEnum.Character;
  return result;
}

function withCharColumns<T extends SqlQueryable>(queryable: T): T {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => retypeCharColumns(await queryRaw(query));
  return queryable;
}

async function connectPrismaPg(config: pg.PoolConfig, schema: string | undefined): Promise<SqlDriverAdapter> {
  const adapter = withCharColumns(await new PrismaPg(config, schema ? { schema } : {}).connect());
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => withCharColumns(await startTransaction(isolationLevel));
  return withBatchScripts(adapter);
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/**
 * Creates the database DATABASE_URL names if it does not exist, as `prisma migrate deploy/dev`
 * do before starting the engine. Returns the database name when it created it.
 */
export async function ensureDatabaseExists(url: string): Promise<string | undefined> {
  try {
    await withClient(url, async () => {});
    return undefined;
  } catch (err) {
    if ((err as { code?: string }).code !== "3D000") throw err; // 3D000: invalid_catalog_name
  }
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  await withClient(withDatabase(url, "postgres"), (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return name;
}

type Log = (line: string) => void;

/**
 * The factory handed to the engine. `connectToShadowDb` gives the engine a scratch database of
 * its own: adapter-pg's version connects back to the MAIN database when configured from a URL,
 * and the engine wipes its shadow database, so that would destroy data.
 */
class PgMigrationFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "postgres" as const;
  readonly adapterName = "@prisma/adapter-pg";
  private readonly adapters = new Set<SqlDriverAdapter>();
  /** Shadow databases and PGlite instances, each released once. */
  private readonly resources = new Set<() => Promise<void>>();
  private serverInfo: Promise<{ database: string; isPGlite: boolean; version: number }> | undefined;

  private readonly schema: string | undefined;

  constructor(
    private readonly url: string,
    private readonly log: Log,
  ) {
    this.schema = schemaOf(url);
  }

  async connect(): Promise<SqlDriverAdapter> {
    return this.track(await connectPrismaPg(poolConfig(this.url, this.schema), this.schema));
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const info = await (this.serverInfo ??= withClient(this.url, async (c) => {
      const { rows } = await c.query<{ db: string; v: string; n: string }>(
        "SELECT current_database() AS db, version() AS v, current_setting('server_version_num') AS n",
      );
      const row = rows[0]!;
      return { database: row.db, isPGlite: row.v.includes("PGlite"), version: Number(row.n) };
    }));
    // PGlite serves exactly one database whatever the client asks for, so it cannot host a shadow.
    if (!info.isPGlite) {
      const shadow = await this.shadowOnSameServer(info.database, info.version).catch((err: Error) => {
        this.log(`shadow database on the same server unavailable (${err.message}); using an in-memory PGlite`);
        return undefined;
      });
      if (shadow) return shadow;
    }
    return this.shadowInPGlite();
  }

  private async shadowOnSameServer(mainDb: string, version: number): Promise<SqlDriverAdapter> {
    const name = `${mainDb.slice(0, 40)}_shadow_${Math.random().toString(36).slice(2, 10)}`;
    const force = version >= 130000 ? " WITH (FORCE)" : "";
    // Registered before it exists, so a crash at any point still drops it.
    const drop = this.own(async () => {
      await withClient(this.url, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${force}`));
    });
    try {
      await withClient(this.url, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
      const shadowUrl = withDatabase(this.url, name);
      // The engine resets its shadow database: make sure this really is the scratch one.
      const actual = await withClient(
        shadowUrl,
        async (c) => (await c.query<{ db: string }>("SELECT current_database() AS db")).rows[0]!.db,
      );
      if (actual !== name) throw new Error(`connecting to "${name}" reached "${actual}"`);
      return this.track(await connectPrismaPg(poolConfig(shadowUrl, this.schema), this.schema), drop);
    } catch (err) {
      await drop().catch(() => {});
      throw err;
    }
  }

  private async shadowInPGlite(): Promise<SqlDriverAdapter> {
    const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
      import("@electric-sql/pglite"),
      import("@electric-sql/pglite-socket"),
    ]);
    const dir = await mkdtemp(path.join(os.tmpdir(), "prisma-shadow-"));
    let db: InstanceType<typeof PGlite> | undefined;
    let server: InstanceType<typeof PGLiteSocketServer> | undefined;
    const stop = this.own(async () => {
      await server?.stop().catch(() => {});
      await db?.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    });
    try {
      db = await PGlite.create(); // in memory
      // A unix socket in a private directory: no port to pick or race for.
      server = new PGLiteSocketServer({ db, path: path.join(dir, ".s.PGSQL.5432") });
      await server.start();
      // One connection: PGlite runs one query at a time for all clients anyway.
      const config = poolConfig({ host: dir, port: 5432, user: "postgres", database: "postgres", max: 1 }, this.schema);
      return this.track(await connectPrismaPg(config, this.schema), stop);
    } catch (err) {
      await stop();
      throw err;
    }
  }

  private own(release: () => Promise<void>): () => Promise<void> {
    let done: Promise<void> | undefined;
    const once = () => {
      this.resources.delete(once);
      return (done ??= release());
    };
    this.resources.add(once);
    return once;
  }

  /** Remembers an adapter for close(), and releases `after` once the adapter is disposed. */
  private track(adapter: SqlDriverAdapter, after?: () => Promise<void>): SqlDriverAdapter {
    const dispose = adapter.dispose.bind(adapter);
    let done: Promise<void> | undefined;
    adapter.dispose = () =>
      (done ??= (async () => {
        this.adapters.delete(adapter);
        try {
          await dispose();
        } finally {
          await after?.();
        }
      })());
    this.adapters.add(adapter);
    return adapter;
  }

  /** Releases every pool, then whatever shadow database the engine did not dispose of itself. */
  async close(): Promise<void> {
    const results = [
      ...(await Promise.allSettled([...this.adapters].map((a) => a.dispose()))),
      ...(await Promise.allSettled([...this.resources].map((release) => release()))),
    ];
    for (const r of results)
      if (r.status === "rejected") this.log(`cleanup failed: ${(r.reason as Error)?.message ?? r.reason}`);
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

/** The schema file, or every .prisma file under a schema folder. */
export async function readSchemaFiles(schemaPath: string): Promise<SchemasContainer> {
  const collect = (p: string): string[] =>
    statSync(p).isDirectory()
      ? readdirSync(p, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? collect(path.join(p, e.name)) : e.name.endsWith(".prisma") ? [path.join(p, e.name)] : [],
        )
      : [p];
  if (!existsSync(schemaPath)) throw new Error(`Prisma schema not found at ${schemaPath}`);
  const files = collect(schemaPath).sort();
  return { files: await Promise.all(files.map(async (f) => ({ path: f, content: await readFile(f, "utf8") }))) };
}

/** migration_lock.toml, byte for byte as the prisma CLI writes it. */
export function migrationLockToml(provider: string): string {
  return `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`;
}

// ---------------------------------------------------------------------------------------------

export interface OpenOptions {
  databaseUrl: string;
  /** Initial schema, used by the engine for namespaces (multiSchema). */
  schema?: SchemasContainer;
  /** Where notices go (stderr by default). */
  log?: Log;
}

/** A connected engine. Always close() it: it owns database connections and shadow databases. */
export class SchemaEngine {
  private static readonly live = new Set<SchemaEngine>();

  private constructor(
    private readonly engine: WasmSchemaEngine,
    private readonly factory: PgMigrationFactory,
    private readonly registry: ErrorRegistry,
  ) {
    SchemaEngine.live.add(this);
  }

  /**
   * For a process-level crash handler: an engine panic inside a WASM callback surfaces as an
   * uncaught exception, not as a rejected call, and would otherwise leave shadow databases behind.
   */
  static async closeAll(): Promise<void> {
    await Promise.allSettled([...SchemaEngine.live].map((e) => e.close()));
  }

  static async open({ databaseUrl, schema, log = (l) => console.error(l) }: OpenOptions): Promise<SchemaEngine> {
    const Engine = await loadEngineClass();
    const factory = new PgMigrationFactory(databaseUrl, log);
    const bound = bindMigrationAwareSqlAdapterFactory(factory);
    const debug = /schema-?engine|prisma:/i.test(parseSettings().DEBUG ?? "");
    const onLog = (line: string) => debug && console.error(`[schema-engine] ${line}`);
    const datamodels = schema?.files.map((f) => [f.path, f.content] as [string, string]);
    try {
      const engine = await Engine.new({ datamodels: datamodels?.length ? datamodels : undefined }, onLog, bound);
      return new SchemaEngine(engine, factory, bound.errorRegistry);
    } catch (err) {
      await factory.close();
      throw translateError(err, bound.errorRegistry);
    }
  }

  private async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw translateError(err, this.registry);
    }
  }

  /** `prisma migrate deploy`: applies pending migrations and records them in `_prisma_migrations`. */
  applyMigrations(migrationsList: MigrationList, filters: SchemaFilter = NO_FILTER): Promise<ApplyMigrationsOutput> {
    return this.run(() => this.engine.applyMigrations({ migrationsList, filters }));
  }

  /** `prisma migrate status`: compares the migrations directory with the migrations table. */
  diagnoseMigrationHistory(
    migrationsList: MigrationList,
    filters: SchemaFilter = NO_FILTER,
  ): Promise<DiagnoseMigrationHistoryOutput> {
    return this.run(() =>
      this.engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters }),
    );
  }

  /** First step of `prisma migrate dev` (uses the shadow database, and caches its result for createMigration). */
  devDiagnostic(migrationsList: MigrationList, filters: SchemaFilter = NO_FILTER): Promise<DevDiagnosticOutput> {
    return this.run(() => this.engine.devDiagnostic({ migrationsList, filters }));
  }

  evaluateDataLoss(
    migrationsList: MigrationList,
    schema: SchemasContainer,
    filters: SchemaFilter = NO_FILTER,
  ): Promise<EvaluateDataLossOutput> {
    return this.run(() => this.engine.evaluateDataLoss({ migrationsList, schema, filters }));
  }

  /** Generates the next migration's SQL; call devDiagnostic first (the WASM engine needs its cache). */
  createMigration(
    input: Omit<CreateMigrationInput, "filters"> & { filters?: SchemaFilter },
  ): Promise<CreateMigrationOutput> {
    return this.run(() => this.engine.createMigration({ filters: NO_FILTER, ...input }));
  }

  /** `prisma migrate resolve --applied`: record a migration as applied without running it. */
  markMigrationApplied(migrationName: string, migrationsList: MigrationList): Promise<void> {
    return this.run(async () => void (await this.engine.markMigrationApplied({ migrationName, migrationsList })));
  }

  /** `prisma migrate resolve --rolled-back`: mark a failed migration as rolled back. */
  markMigrationRolledBack(migrationName: string): Promise<void> {
    return this.run(async () => void (await this.engine.markMigrationRolledBack({ migrationName })));
  }

  async close(): Promise<void> {
    if (!SchemaEngine.live.delete(this)) return;
    try {
      this.engine.free();
    } catch {
      // after a panic the WASM instance is unusable; the connections below still need closing
    }
    await this.factory.close();
  }
}

export const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

/** Turns what the WASM engine throws into a readable error, recovering JS errors the adapter raised. */
export function translateError(err: unknown, registry?: ErrorRegistry): Error {
  if (err instanceof WebAssembly.RuntimeError) {
    const reason =
      (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { message?: string } }).PRISMA_WASM_PANIC_REGISTRY?.message ||
      err.message;
    return new Error(`Schema engine panicked: ${reason}`, { cause: err });
  }
  if (!(err instanceof Error)) return new Error(String(err));
  if (err instanceof SchemaEngineError) return err;
  // JS errors thrown inside adapter code reach the engine as "External error id#N" (registry index).
  const id = /External error id#(\d+)/.exec(err.message)?.[1];
  const original = id === undefined ? undefined : registry?.consumeError(Number(id))?.error;
  if (original instanceof Error)
    return new Error(`${err.message.split("\n")[0]}: ${original.message}`, { cause: original });
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") return new SchemaEngineError(err.message, code);
  return err;
}
