import { toCsv, csvFileName, type CsvColumn } from './csv';
import { toBackendError, type BackendError } from './errors';
import type { Inbox } from './inbox.svelte';

/**
 * Saves the console's tables as CSV through the backend (a download in the browser, a
 * file on the desktop) and says how it went: `status` names the file (and where the
 * desktop put it), `error` why it failed.
 */
export class Exporter {
  status = $state<string | null>(null);
  error = $state<BackendError | null>(null);
  busy = $state(false);

  private readonly inbox: Inbox;

  constructor(inbox: Inbox) {
    this.inbox = inbox;
  }

  async save<T>(base: string, columns: readonly CsvColumn<T>[], rows: readonly T[]): Promise<void> {
    const fileName = csvFileName(base);
    const csv = toCsv(columns, rows);
    this.busy = true;
    this.error = null;
    this.status = null;
    try {
      const path = await this.inbox.manage((b) => b.saveExport(fileName, csv));
      if (path) this.status = `Saved ${fileName} to ${path}`;
      // The desktop answers null when the save was cancelled; the browser always does.
      else this.status = this.inbox.backend.desktop ? `${fileName} was not saved` : `Downloaded ${fileName}`;
    } catch (err) {
      this.error = toBackendError(err);
    } finally {
      this.busy = false;
    }
  }
}
