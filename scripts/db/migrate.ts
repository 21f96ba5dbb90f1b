// Offline `prisma migrate` (deploy, create, status, resolve: see USAGE) through Prisma's WASM schema
// engine. DATABASE_URL comes from the environment; when unset, the project's local services provide one.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import slugify from "@sindresorhus/slugify";
import { parseSettings } from "../../lib/env.js";
import config from "../../prisma.config.js";
import { ensureServices } from "../services/index.js";
import { ROOT } from "../lib/procs.js";
import type { MigrationList, SchemaFilter, SchemasContainer } from "@prisma/schema-engine-wasm";
import {
  SchemaEngine,
  ensureDatabaseExists,
  engineVersion,
  migrationLockToml,
  readMigrationsList,
  translateError,
} from "./schema-engine.js";

const SCHEMA_PATH = path.resolve(ROOT, config.schema ?? "prisma/schema.prisma");
const MIGRATIONS_DIR = path.resolve(ROOT, config.migrations?.path ?? "prisma/migrations");
const MIGRATIONS_LABEL = path.relative(process.cwd(), MIGRATIONS_DIR) || ".";
const FILTERS: SchemaFilter = {
  externalTables: config.tables?.external ?? [],
  externalEnums: config.enums?.external ?? [],
};
const readList = () => readMigrationsList(MIGRATIONS_DIR, config.migrations?.initShadowDb);

const USAGE = `Usage: tsx scripts/db/migrate.ts <command>

  deploy                  Apply all pending migrations from ${MIGRATIONS_LABEL}
  create <name> [--apply] [--empty]
                          Write a migration for the schema changes not yet in ${MIGRATIONS_LABEL}
                          (--apply: apply it too; --empty: write one even without changes)
  status                  List applied and pending migrations; exit 1 unless up to date
  resolve --rolled-back <migration> | --applied <migration>
                          Record a failed migration as rolled back (fixed, to be re-run),
                          or as applied (its changes were made by hand)
`;

class UsageError extends Error {}

async function resolveDatabaseUrl(): Promise<string> {
  const { DATABASE_URL } = parseSettings();
  if (DATABASE_URL) return DATABASE_URL;
  // Not stopped afterwards: servers it starts keep running for the app to reuse, by design.
  return (await ensureServices({ only: ["postgres"] })).databaseUrl;
}

function describeTarget(url: string): string {
  const u = new URL(url);
  return `PostgreSQL database "${decodeURIComponent(u.pathname.slice(1)) || "(default)"}" at "${u.host || u.searchParams.get("host") || "localhost"}"`;
}

const tree = (names: string[]) => names.map((n) => `  └─ ${n}/\n    └─ migration.sql`).join("\n");

// ---------------------------------------------------------------------------------------------

const found = (n: number) =>
  n ? `${n} migration${n > 1 ? "s" : ""} found in ${MIGRATIONS_LABEL}` : `No migration found in ${MIGRATIONS_LABEL}`;
const apply = (engine: SchemaEngine, migrationsList: MigrationList) =>
  engine.run((e) => e.applyMigrations({ migrationsList, filters: FILTERS }));

async function deploy(engine: SchemaEngine): Promise<number> {
  const list = await readList();
  console.log(found(list.migrationDirectories.length));
  const { appliedMigrationNames } = await apply(engine, list);
  if (appliedMigrationNames.length === 0) {
    console.log("\nNo pending migrations to apply.");
  } else {
    console.log(
      `\nThe following migration(s) have been applied:\n\n${tree(appliedMigrationNames)}\n\nAll migrations have been successfully applied.`,
    );
  }
  return 0;
}

async function status(engine: SchemaEngine): Promise<number> {
  const migrationsList = await readList();
  const local = migrationsList.migrationDirectories.map((d) => d.path);
  const diag = await engine.run((e) =>
    e.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: FILTERS }),
  );
  const history = diag.history;
  const pending =
    history && history.diagnostic !== "migrationsDirectoryIsBehind" ? history.unappliedMigrationNames : [];
  const dbOnly = history && history.diagnostic !== "databaseIsBehind" ? history.unpersistedMigrationNames : [];
  const failed = diag.failedMigrationNames;
  const edited = new Set(diag.editedMigrationNames);

  console.log(`${found(local.length)}\n`);
  for (const name of local) {
    const state = failed.includes(name) ? "failed" : pending.includes(name) ? "pending" : "applied";
    console.log(
      `  ${state.padEnd(8)} ${name}${edited.has(name) ? "  (migration.sql changed since it was applied)" : ""}`,
    );
  }
  for (const name of dbOnly)
    console.log(`  ${"db only".padEnd(8)} ${name}  (in the database, not in ${MIGRATIONS_LABEL})`);
  console.log();

  if (failed.length) {
    console.error(
      `Failed migration(s): ${failed.join(", ")}. Undo its partial changes (if any), then either fix it and run\n` +
        `  tsx scripts/db/migrate.ts resolve --rolled-back ${failed[0]}   (and deploy again), or, if done by hand,\n` +
        `  tsx scripts/db/migrate.ts resolve --applied ${failed[0]}`,
    );
    return 1;
  }
  if (history?.diagnostic === "historiesDiverge") {
    console.error(
      `The migration history in the database and in ${MIGRATIONS_LABEL} diverge after ${history.lastCommonMigrationName ?? "the start"}.`,
    );
    return 1;
  }
  if (pending.length) {
    console.error(
      `${pending.length} migration${pending.length > 1 ? "s have" : " has"} not yet been applied. Run: tsx scripts/db/migrate.ts deploy`,
    );
    return 1;
  }
  if (!diag.hasMigrationsTable) {
    console.error("The database is not managed by Prisma Migrate (no _prisma_migrations table).");
    return 1;
  }
  if (history?.diagnostic === "migrationsDirectoryIsBehind") {
    console.error(`The database has migrations that are missing from ${MIGRATIONS_LABEL}.`);
    return 1;
  }
  if (edited.size) console.error(`Warning: applied migration(s) edited since: ${[...edited].join(", ")}`);
  console.log("Database schema is up to date!");
  return 0;
}

/** prisma migrate dev's name handling: @sindresorhus/slugify(name, { separator: "_" }), cut to 200. */
const slugifyMigrationName = (name: string) => slugify(name, { separator: "_" }).slice(0, 200);

async function create(
  engine: SchemaEngine,
  schema: SchemasContainer,
  rawName: string,
  opts: { apply: boolean; empty: boolean },
): Promise<number> {
  const migrationName = slugifyMigrationName(rawName);
  if (!migrationName) throw new UsageError(`"${rawName}" is not a usable migration name`);
  const migrationsList = await readList();
  const input = { migrationsList, filters: FILTERS };

  // The same engine calls, in the same order, as `prisma migrate dev --create-only`.
  const dev = await engine.run((e) => e.devDiagnostic(input));
  if (dev.action.tag === "reset") {
    console.error(`${dev.action.reason}\n\nThe database must be reset first; this tool never drops data. Aborting.`);
    return 1;
  }
  const before = await apply(engine, migrationsList);
  if (before.appliedMigrationNames.length) {
    console.log(`The following migration(s) have been applied:\n\n${tree(before.appliedMigrationNames)}\n`);
    // The WASM engine's evaluateDataLoss/createMigration reuse the shadow schema that devDiagnostic
    // cached for the migrations applied at the time (they cannot open a shadow database): refresh it.
    await engine.run((e) => e.devDiagnostic(input));
  }
  const loss = await engine.run((e) => e.evaluateDataLoss({ ...input, schema }));
  for (const step of loss.unexecutableSteps)
    console.error(`⚠️  Cannot be executed as is (step ${step.stepIndex}): ${step.message}`);
  for (const warning of loss.warnings) console.error(`⚠️  ${warning.message}`);

  const out = await engine.run((e) => e.createMigration({ ...input, migrationName, draft: opts.empty, schema }));
  if (out.migrationScript === null) {
    console.log("No schema changes: the schema matches the migrations. Nothing created.");
    return 0;
  }
  const dir = path.join(MIGRATIONS_DIR, out.generatedMigrationName);
  if (existsSync(dir)) throw new Error(`The migration directory already exists at ${dir}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `migration.${out.extension}`), out.migrationScript, "utf8");
  await writeFile(
    path.join(MIGRATIONS_DIR, migrationsList.lockfile.path),
    migrationLockToml(out.connectorType),
    "utf8",
  );
  console.log(`Created ${path.relative(process.cwd(), dir)}/migration.${out.extension}`);

  if (opts.apply && (loss.warnings.length || loss.unexecutableSteps.length)) {
    // prisma migrate dev asks before applying a destructive migration; without a prompt, don't.
    console.error("Not applied because of the warnings above: review it, then run deploy.");
    return 1;
  }
  if (opts.apply) {
    const { appliedMigrationNames } = await apply(engine, await readList());
    console.log(`\nApplied:\n\n${tree(appliedMigrationNames)}`);
  } else {
    console.log("Edit it if needed, then apply it with: tsx scripts/db/migrate.ts deploy");
  }
  return 0;
}

async function resolve(engine: SchemaEngine, migrationName: string, as: "applied" | "rolled-back"): Promise<number> {
  const migrationsList = await readList();
  await engine.run((e) =>
    as === "applied"
      ? e.markMigrationApplied({ migrationName, migrationsList })
      : e.markMigrationRolledBack({ migrationName }),
  );
  console.log(`Migration ${migrationName} marked as ${as.replace("-", " ")}.`);
  return 0;
}

// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith("--")));
  const [command, ...args] = argv.filter((a) => !a.startsWith("--"));
  if (!command || flags.has("--help")) {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const known: Record<string, { flags: string[]; args: number }> = {
    deploy: { flags: [], args: 0 },
    status: { flags: [], args: 0 },
    create: { flags: ["--apply", "--empty"], args: 1 },
    resolve: { flags: ["--applied", "--rolled-back"], args: 1 },
  };
  const spec = known[command];
  if (!spec) throw new UsageError(`Unknown command "${command}"`);
  const unknownFlag = [...flags].find((f) => !spec.flags.includes(f));
  if (unknownFlag) throw new UsageError(`Unknown option ${unknownFlag} for ${command}`);
  if (args.length !== spec.args) throw new UsageError(`Wrong arguments for ${command}`);
  if (command === "resolve" && flags.size !== 1)
    throw new UsageError("resolve needs exactly one of --applied, --rolled-back");

  const url = await resolveDatabaseUrl();
  const target = describeTarget(url);
  if (command === "deploy" || command === "create") {
    if (await ensureDatabaseExists(url)) console.log(`Created ${target}`);
  }
  console.log(`Datasource: ${target} (schema engine ${(await engineVersion()).slice(0, 12)}, wasm)\n`);
  const schema = { files: [{ path: SCHEMA_PATH, content: await readFile(SCHEMA_PATH, "utf8") }] };
  const engine = (opened = await SchemaEngine.open(url, schema, (line) => console.error(line)));
  try {
    if (command === "deploy") return await deploy(engine);
    if (command === "status") return await status(engine);
    if (command === "resolve")
      return await resolve(engine, args[0]!, flags.has("--applied") ? "applied" : "rolled-back");
    return await create(engine, schema, args[0]!, { apply: flags.has("--apply"), empty: flags.has("--empty") });
  } finally {
    await engine.close();
  }
}

// An engine panic inside a WASM callback arrives here rather than as a rejected call: still drop
// the shadow databases and close connections before exiting.
let opened: SchemaEngine | undefined;
process.on("uncaughtException", (err) => {
  console.error(translateError(err).message);
  void (opened?.close() ?? Promise.resolve()).finally(() => process.exit(1));
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) console.error(`${err.message}\n\n${USAGE}`);
    else if (err instanceof Error && ["Error", "SchemaConnectorError"].includes(err.name)) console.error(err.message);
    else console.error(err);
    process.exit(1);
  },
);
