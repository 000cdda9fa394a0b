/**
 * What an item of `picow-sim test` left running in its worker process: the resources that keep
 * Node's event loop alive (timers, sockets, servers, immediates) beyond those the worker had
 * before its first item. A worker takes another item only when nothing is left.
 */

/** The resource types beyond `baseline` (a multiset), once closing handles had two turns of the loop. */
export async function leftovers(baseline: readonly string[]): Promise<string[]> {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  const left = [...process.getActiveResourcesInfo()];
  for (const b of baseline) {
    const i = left.indexOf(b);
    if (i >= 0) left.splice(i, 1);
  }
  return left;
}
