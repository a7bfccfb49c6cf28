/**
 * A table of JSON records, one a row: an id, a key the records are looked up by (an endpoint, a
 * pipeline's name), a state, and the record itself. The rollouts' and the pipeline runs' decision
 * records are kept this way. Table and column names are pier's own constants, never a user's input.
 */
import type { PierDatabase } from "./database.js";

/** The statement that makes such a table. */
export const recordTableSql = (table: string, keyColumn: string) => `
  CREATE TABLE ${table} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ${keyColumn} TEXT NOT NULL,
    state TEXT NOT NULL,
    record TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );`;

export class RecordTable<T extends { id: number; state: string }> {
  constructor(
    readonly db: PierDatabase,
    readonly table: string,
    readonly keyColumn: string,
  ) {}

  /** Stores a new record under `key`; it gets its id. */
  insert(key: string, record: Omit<T, "id">): T {
    const now = Date.now();
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO ${this.table} (${this.keyColumn}, state, record, started_at, updated_at) VALUES (?, ?, '{}', ?, ?)`,
        )
        .run(key, record.state, now, now).lastInsertRowid,
    );
    const full = { ...record, id } as T;
    this.save(full);
    return full;
  }

  save(record: T): void {
    this.db
      .prepare(`UPDATE ${this.table} SET state = ?, record = ?, updated_at = ? WHERE id = ?`)
      .run(record.state, JSON.stringify(record), Date.now(), record.id);
  }

  get(id: number): T | undefined {
    const row = this.db.prepare(`SELECT record FROM ${this.table} WHERE id = ?`).get(id) as
      | { record: string }
      | undefined;
    return row ? (JSON.parse(row.record) as T) : undefined;
  }

  /** The records with this key and in these states (each optional), newest or oldest first. */
  find(where: { key?: string; states?: readonly string[] }, order: "newest" | "oldest", limit = 50): T[] {
    const clauses: string[] = [];
    const values: (string | number)[] = [];
    if (where.key !== undefined) {
      clauses.push(`${this.keyColumn} = ?`);
      values.push(where.key);
    }
    if (where.states) {
      clauses.push(`state IN (${where.states.map(() => "?").join(", ")})`);
      values.push(...where.states);
    }
    const sql = `SELECT record FROM ${this.table}${clauses.length ? ` WHERE ${clauses.join(" AND ")}` : ""} ORDER BY id ${order === "newest" ? "DESC" : "ASC"} LIMIT ?`;
    return (this.db.prepare(sql).all(...values, limit) as { record: string }[]).map(
      (r) => JSON.parse(r.record) as T,
    );
  }
}
