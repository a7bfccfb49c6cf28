/**
 * pier.db: one SQLite database (WAL) under the home folder. Each subsystem brings its own named
 * migrations; each runs once, inside a transaction, in the order given.
 */
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type Database from "better-sqlite3";

// The native addon is loaded when a database is first opened, not by every `pier --help`.
const require = createRequire(import.meta.url);

export type PierDatabase = Database.Database;

export interface Migration {
  name: string;
  sql: string;
}

const DATABASE_FILE = "pier.db";

/**
 * Switches to WAL. SQLite does not call its busy handler for a change of journal mode that another
 * process opening the same new database holds a lock against (it answers SQLITE_BUSY at once), so
 * the switch is tried again for as long as the busy timeout would have waited.
 */
function setWal(db: PierDatabase): void {
  const deadline = Date.now() + 15_000;
  for (let wait = 5; ; wait = Math.min(100, wait * 2)) {
    try {
      db.pragma("journal_mode = WAL");
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "SQLITE_BUSY" || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
    }
  }
}

export function openPierDatabase(home: string, migrations: readonly Migration[]): PierDatabase {
  // The database holds endpoint state: owner-only, and SQLite gives its -wal and -shm files the same mode.
  const path = join(home, DATABASE_FILE);
  if (!existsSync(path)) writeFileSync(path, "", { mode: 0o600, flag: "a" });
  for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
  // better-sqlite3's `timeout` is SQLite's busy timeout: set before anything that may wait for a lock,
  // such as switching a new database to WAL while another process opens it too.
  const SQLite = require("better-sqlite3") as typeof Database;
  const db = new SQLite(path, { timeout: 15_000 });
  setWal(db);
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.exec("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const applied = db.prepare("SELECT 1 FROM migrations WHERE name = ?");
  const record = db.prepare("INSERT INTO migrations (name, applied_at) VALUES (?, ?)");
  for (const migration of migrations) {
    db.transaction(() => {
      if (applied.get(migration.name)) return;
      db.exec(migration.sql);
      record.run(migration.name, Date.now());
    }).immediate();
  }
  return db;
}
