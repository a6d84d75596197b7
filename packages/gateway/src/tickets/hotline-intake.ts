import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { CivicLoopError, type HotlineImportResult, type HotlineRecord, type Principal } from '@civicloop/model';
import type { TicketService } from './ticket-service.js';

/** A hotline case number is remembered for ten years: re-exports of old cases never re-import. */
const REMEMBER_SECONDS = 10 * 365 * 86_400;
export const MAX_ROWS = 1000;

const NUMERIC = new Set(['lat', 'lon']);

/** CSV with a header row naming HotlineRecord's fields; empty cells are absent fields. */
export function rowsFromCsv(text: string): unknown[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw new CivicLoopError(
      'CL_ERR_VALIDATION',
      `The CSV cannot be read: ${(error as Error).message}. Send a header row naming the fields (source, externalId, category, description, lat, lon, ...).`,
    );
  }
  return records.map((record) => {
    const row: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(record)) {
      if (value === '') continue;
      row[field] = NUMERIC.has(field) && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
    }
    return row;
  });
}

/** What is wrong with a row as a HotlineRecord ("/path: message"), or undefined: the route's body check (http/validation.ts). */
export type HotlineRowCheck = (row: unknown) => string | undefined;

/**
 * Imports hotline cases one by one: a good row becomes a ticket (channel hotline), a case number
 * seen before returns its existing ticket, and a bad row is reported with its reason while the
 * others go in. Each row is its own atomic create, keyed by source and case number.
 */
export async function importHotline(tickets: TicketService, principal: Principal, rows: unknown[], check: HotlineRowCheck): Promise<HotlineImportResult> {
  if (rows.length > MAX_ROWS) throw new CivicLoopError('CL_ERR_VALIDATION', `${rows.length} rows in one batch; send at most ${MAX_ROWS} per request.`);
  const result: HotlineImportResult = { created: [], duplicates: [], errors: [] };
  for (const [index, row] of rows.entries()) {
    const ref = {
      row: index + 1,
      ...(typeof (row as { externalId?: unknown })?.externalId === 'string' ? { externalId: (row as { externalId: string }).externalId } : {}),
    };
    const problem = check(row);
    if (problem !== undefined) {
      result.errors.push({ ...ref, code: 'CL_ERR_VALIDATION', message: problem });
      continue;
    }
    const record = row as HotlineRecord;
    const input = {
      category: record.category,
      description: record.description,
      location: { lat: record.lat, lon: record.lon, ...(record.crs ? { crs: record.crs } : {}), ...(record.address ? { address: record.address } : {}) },
      channel: 'hotline' as const,
      externalId: `${record.source}:${record.externalId}`,
      ...(record.priority ? { priority: record.priority } : {}),
      ...(record.callerName ? { reporterName: record.callerName } : {}),
      ...(record.callerPhone ? { contact: record.callerPhone } : {}),
    };
    const key = createHash('sha256').update(`intake:hotline:${record.source}:${record.externalId}`).digest('base64url');
    try {
      const { ticket, replayed } = await tickets.create(principal, input, { key, fp: 'hotline', ttlSeconds: REMEMBER_SECONDS }, record.receivedAt);
      (replayed ? result.duplicates : result.created).push({ ...ref, id: ticket.id, number: ticket.number });
    } catch (error) {
      if (!(error instanceof CivicLoopError)) throw error;
      result.errors.push({ ...ref, code: error.code, message: error.message });
    }
  }
  return result;
}
