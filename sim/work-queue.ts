/**
 * What a virtual handset is busy with. Its DM sessions run one after another; an operation
 * a session asks for (a firmware download, an app install, a local backup) starts when
 * that session ends, like on a real handset that will not download over a DM session it is
 * still in; and everything started is tracked, so `idle()` can wait for all of it.
 */
export class WorkQueue {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly background = new Set<Promise<unknown>>();
  private afterSession: Array<() => Promise<void>> = [];
  /** A DM session is running: operations wait for its end. */
  inSession = false;

  /** Runs `run` after the session running or queued before it. */
  session<T>(run: () => Promise<T>): Promise<T> {
    const r = this.chain.then(run);
    this.chain = r.catch(() => undefined);
    return r;
  }

  /** Starts the operations the session that just ended asked for. */
  startDeferred(): void {
    const jobs = this.afterSession;
    this.afterSession = [];
    for (const job of jobs) this.track(job());
  }

  /** Runs an operation after the current session, or now when there is none. */
  defer(job: () => Promise<void>): void {
    if (this.inSession) this.afterSession.push(job);
    else this.track(job());
  }

  /** How many operations wait for the session to end; an Atomic remembers it to undo its own. */
  get deferredCount(): number {
    return this.afterSession.length;
  }

  /** Forgets the operations deferred after the first `count` (a rolled-back Atomic's). */
  dropDeferredAfter(count: number): void {
    this.afterSession.length = count;
  }

  track(p: Promise<unknown>): void {
    const t = p.catch(() => undefined).finally(() => this.background.delete(t));
    this.background.add(t);
  }

  /** Resolves once no session, operation or follow-up session is running or queued. */
  async idle(): Promise<void> {
    for (;;) {
      await this.chain;
      if (this.background.size === 0) {
        await this.chain;
        if (this.background.size === 0) return;
      }
      await Promise.all([...this.background]);
    }
  }
}
