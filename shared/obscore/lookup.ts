/**
 * Datasets by identifier, for DataLink and SODA: the file behind an ObsCore row and the
 * coverage a cutout is checked against. A read-only connection opened on first use (the
 * store may be created after the process starts); lookups are single indexed reads.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { configureSqlite } from '../db/sqlite';
import { PUBLISHER_PREFIX } from './columns';

export interface Dataset {
  /** obs_publisher_did: butler://dp02/<uuid>. */
  id: string;
  /** Path relative to DATA_DIR, or null for metadata-only rows. */
  file: string | null;
  fileSize: number | null;
  contentType: string;
  sRegion: string | null;
  emMin: number | null;
  emMax: number | null;
  tMin: number | null;
  tMax: number | null;
  polStates: string | null;
}

interface Row {
  obs_publisher_did: string;
  _file: string | null;
  _file_size: number | null;
  s_region: string | null;
  em_min: number | null;
  em_max: number | null;
  t_min: number | null;
  t_max: number | null;
  pol_states: string | null;
}

/** The canonical identifier; a bare UUID (as in Rubin's cutout URLs) gets the publisher prefix. */
export function canonicalId(id: string): string {
  const trimmed = id.trim();
  return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(trimmed)
    ? `${PUBLISHER_PREFIX}${trimmed.toLowerCase()}`
    : trimmed;
}

export class DatasetLookup {
  private db: Database.Database | undefined;
  private statement: Database.Statement | undefined;

  constructor(private readonly obscoreDb: string) {}

  /** The dataset, or undefined when no row has this identifier (or there is no store yet). */
  find(id: string): Dataset | undefined {
    if (!this.statement) {
      if (!fs.existsSync(this.obscoreDb)) return undefined;
      this.db = new Database(this.obscoreDb, { readonly: true, fileMustExist: true });
      configureSqlite(this.db, { readonly: true, busyTimeoutMs: 5000 });
      this.statement = this.db.prepare(
        'SELECT obs_publisher_did, _file, _file_size, s_region, em_min, em_max, t_min, t_max, pol_states FROM ivoa_obscore WHERE obs_publisher_did = ?',
      );
    }
    const row = this.statement.get(canonicalId(id)) as Row | undefined;
    if (!row) return undefined;
    return {
      id: row.obs_publisher_did,
      file: row._file,
      fileSize: row._file_size,
      contentType: 'application/fits',
      sRegion: row.s_region,
      emMin: row.em_min,
      emMax: row.em_max,
      tMin: row.t_min,
      tMax: row.t_max,
      polStates: row.pol_states,
    };
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.statement = undefined;
  }
}
