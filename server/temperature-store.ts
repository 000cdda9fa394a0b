/**
 * Where readings live: one SQLite table, in a file (WAL journal with synchronous=FULL: a reading
 * is on disk before its 201 goes out, so even an OS crash loses nothing acknowledged) or in memory
 * (`:memory:`, gone with the process).
 *
 * The database is opened — and SQLite's native module loaded — when the store is made, so that a
 * bad path or a newer schema stops a server at its start; or, with `openOnFirstUse` (the
 * simulator's servers, every in-memory store), at the first reading or query: a run whose board
 * posts no reading starts without loading SQLite at all (issue #26: nothing heavy before it is
 * needed).
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { StorageError } from './errors.ts';
import type { ReadingsQuery } from './readings-query.ts';
import type { NewReading, StoredReading } from './temperature-reading.ts';

export const MEMORY_DB = ':memory:';

/** Bumped when the table layout changes; kept in SQLite's `user_version`. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  received_at INTEGER NOT NULL,
  celsius     REAL    NOT NULL,
  sensor      TEXT,
  client      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS readings_time ON readings (received_at);
CREATE INDEX IF NOT EXISTS readings_sensor_time ON readings (sensor, received_at);
`;

interface Row {
  id: number;
  received_at: number;
  celsius: number;
  sensor: string | null;
  client: string;
}

export interface TemperatureStoreOptions {
  /** Open the database at the first reading or query, not now (default: only for `:memory:`). */
  openOnFirstUse?: boolean;
}

interface OpenDb {
  db: Database.Database;
  insert: Database.Statement<[number, number, string | null, string]>;
}

/** better-sqlite3 is CommonJS around a native module: required (synchronously) at the first open. */
const requireHere = createRequire(import.meta.url);

export class TemperatureStore {
  private opened: OpenDb | null = null;
  private closed = false;

  constructor(
    readonly file: string,
    opts: TemperatureStoreOptions = {},
  ) {
    if (!(opts.openOnFirstUse ?? file === MEMORY_DB)) this.open();
  }

  /** The open database and its statements, opened now if not yet. */
  private get live(): OpenDb {
    return this.opened ?? this.open();
  }

  /** Opens the database (once); a StorageError says why it cannot be. */
  private open(): OpenDb {
    const file = this.file;
    let db: Database.Database | undefined;
    try {
      if (this.closed) throw new Error('the store was closed');
      if (file !== MEMORY_DB) mkdirSync(dirname(file), { recursive: true });
      const Sqlite = requireHere('better-sqlite3') as typeof Database;
      db = new Sqlite(file);
      if (file !== MEMORY_DB) {
        db.pragma('journal_mode = WAL');
        // WAL's default (NORMAL) syncs only at checkpoints: an OS crash could lose readings the
        // server already answered 201 for. FULL syncs the WAL on every commit.
        db.pragma('synchronous = FULL');
      }
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new Error(`written by a newer picow-sim (schema ${version}, this one knows ${SCHEMA_VERSION})`);
      }
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      const insert = db.prepare<[number, number, string | null, string]>(
        'INSERT INTO readings (received_at, celsius, sensor, client) VALUES (?, ?, ?, ?)',
      );
      return (this.opened = { db, insert });
    } catch (err) {
      if (db?.open) db.close();
      throw new StorageError(file, `cannot open the readings database: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The journal mode and SQLite's `synchronous` level (2 = FULL) in force. */
  durability(): { journal: string; synchronous: number } {
    return {
      journal: String(this.live.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.live.db.pragma('synchronous', { simple: true })),
    };
  }

  insert(r: NewReading): StoredReading {
    const info = this.live.insert.run(r.receivedAt, r.celsius, r.sensor, r.client);
    return { id: Number(info.lastInsertRowid), ...r };
  }

  /** Readings matching `q`, oldest first; with more than `q.limit`, the latest `q.limit`. */
  query(q: ReadingsQuery): StoredReading[] {
    const where: string[] = [];
    const args: (number | string)[] = [];
    if (q.since !== undefined) {
      where.push('received_at >= ?');
      args.push(q.since);
    }
    if (q.until !== undefined) {
      where.push('received_at < ?');
      args.push(q.until);
    }
    if (q.sensor !== undefined) {
      where.push('sensor = ?');
      args.push(q.sensor);
    }
    const sql =
      'SELECT * FROM (SELECT id, received_at, celsius, sensor, client FROM readings' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY received_at DESC, id DESC LIMIT ?) ORDER BY received_at ASC, id ASC';
    const rows = this.live.db.prepare(sql).all(...args, q.limit) as Row[];
    return rows.map((row) => ({
      id: row.id,
      receivedAt: row.received_at,
      celsius: row.celsius,
      sensor: row.sensor,
      client: row.client,
    }));
  }

  count(): number {
    return (this.live.db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
  }

  close(): void {
    this.closed = true;
    if (this.opened?.db.open) this.opened.db.close();
  }
}
