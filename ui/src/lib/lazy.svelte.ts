import { BackendError, toBackendError } from './errors';

/**
 * Something fetched once per login when first needed (agents, teams, canned
 * responses): again only after a failure or when forced. Reactive.
 */
export class Lazy<T> {
  /** `null` until loaded. */
  value = $state<T | null>(null);
  loading = $state(false);
  error = $state<BackendError | null>(null);

  private readonly fetcher: () => Promise<T>;
  /** True if it handled the error itself (the session ended): not kept in `error`. */
  private readonly handled: (err: BackendError) => boolean;
  private seq = 0;

  constructor(fetcher: () => Promise<T>, handled: (err: BackendError) => boolean = () => false) {
    this.fetcher = fetcher;
    this.handled = handled;
  }

  async load(force = false): Promise<void> {
    if (this.loading) return;
    if (this.value !== null && !force) return;
    const seq = ++this.seq;
    this.loading = true;
    this.error = null;
    try {
      const value = await this.fetcher();
      if (seq !== this.seq) return;
      this.value = value;
    } catch (err) {
      const e = toBackendError(err);
      if (seq !== this.seq || this.handled(e)) return;
      this.error = e;
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  /** Forget the value (logout); a load in flight is ignored. */
  reset(): void {
    this.seq += 1;
    this.value = null;
    this.loading = false;
    this.error = null;
  }
}
