// The server's business clock, as the agent console keeps it.

/**
 * The server's business clock. Times in the protocol are business
 * milliseconds since the server started, and the clock may run faster than
 * real time (clock.scale). The agent's `welcome` says both the server's "now"
 * (`now_ms`) and the scale (`sync`); a server that does not send them leaves
 * us to estimate both from live messages that happen "now" (an assignment, a
 * reply warning).
 */
export class BizClock {
  constructor() { this.first = null; this.last = null; this.scale = 1; this.lowerBound = 0; this.exact = false; }
  /** The server's own "now" and scale (from `welcome`): no more estimating. */
  sync(biz, scale) {
    if (typeof biz !== 'number' || !Number.isFinite(biz)) return;
    if (typeof scale === 'number' && Number.isFinite(scale) && scale > 0) { this.scale = scale; this.exact = true; }
    const sample = { biz, local: performance.now() };
    this.first = sample;
    this.last = sample;
    // A fresh "now" replaces older bounds (the server may have restarted: its clock starts again at 0).
    this.lowerBound = biz;
    this.lowerBoundLocal = sample.local;
  }
  observe(biz) {
    if (typeof biz !== 'number') return;
    // Synced: live times are past moments, at most a lower bound.
    if (this.exact) { this.bound(biz); return; }
    const sample = { biz, local: performance.now() };
    if (!this.first) this.first = sample;
    this.last = sample;
    const dl = sample.local - this.first.local;
    const db = sample.biz - this.first.biz;
    if (dl > 1500 && db > 0) this.scale = Math.min(100000, Math.max(0.05, db / dl));
    this.bound(biz);
  }
  /** A scale measured directly (business ms over local ms). */
  setScale(scale) { if (!this.exact && Number.isFinite(scale) && scale > 0.05) this.scale = Math.min(100000, scale); }
  bound(biz) {
    if (typeof biz === 'number' && biz > this.lowerBound) { this.lowerBound = biz; this.lowerBoundLocal = performance.now(); }
  }
  now() {
    // Before any live sample (e.g. right after a reload): at least the newest
    // time seen, moving on from when it was seen.
    if (!this.last) return this.lowerBound ? this.lowerBound + (performance.now() - this.lowerBoundLocal) * this.scale : null;
    return Math.max(this.lowerBound, this.last.biz + (performance.now() - this.last.local) * this.scale);
  }
  /** A business time as the wall-clock time it happened here (HH:MM). */
  wallTime(ms) {
    const now = this.now();
    if (typeof ms !== 'number' || now == null) return '';
    const at = new Date(Date.now() - Math.max(0, now - ms) / this.scale);
    return at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
}
