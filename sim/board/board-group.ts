/**
 * Boards that can answer each other (one radio, one LAN): the clock policy's rule that a sleeping
 * board may jump to its next alarm only when nothing outside it can answer, applied between
 * boards. Each board keeps its own clock; a board whose cores all sleep may move its clock only
 * as far as every other board of the group could still send it something — that board's present
 * time while it runs (or has a wake pending), its next alarm while it sleeps — plus one frame's
 * lead. Running boards are never held back (computation is never paced), so the group cannot
 * deadlock: the board that runs, or the one whose alarm is due first, always moves on.
 */
import type { PicoWBoard as PicoW } from './picow.ts';

/** How far a sleeping board may run ahead of the earliest a peer could send: about one frame's air time and the chip's turnaround. */
export const PEER_LEAD_NANOS = 1_000_000;

export class BoardGroup {
  private readonly boards = new Set<PicoW>();

  /** Put a board in the group; returns the function that takes it out. */
  add(board: PicoW): () => void {
    this.boards.add(board);
    board.peerBound = () => this.boundFor(board);
    board.onSliceEnd = () => {
      for (const p of this.boards) if (p !== board) p.peerProgressed();
    };
    return () => {
      this.boards.delete(board);
      board.peerBound = null;
      board.onSliceEnd = null;
      for (const p of this.boards) p.peerProgressed();
    };
  }

  get size(): number {
    return this.boards.size;
  }

  /** The latest simulated time `board` may reach while it sleeps. */
  private boundFor(board: PicoW): number {
    let bound = Infinity;
    for (const p of this.boards) if (p !== board) bound = Math.min(bound, p.earliestSendNanos);
    return bound + PEER_LEAD_NANOS;
  }
}
