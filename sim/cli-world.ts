/**
 * The command line's words turned into the session layer's world (sim/session/world.ts): one
 * board with the script's firmware, the Wi-Fi and network flags, the embedded echo server. A new
 * flag that shapes the world is read here into `WorldOptions`.
 */
import type { Uf2Image } from './board/uf2.ts';
import type { CliOptions } from './cli-options.ts';
import type { Logger } from './log.ts';
import type { WorldOptions } from './session/world.ts';

export interface CliWorldContext {
  image: Uf2Image;
  logger: Logger;
  /** `npm run sim` with no arguments: serve from another port when 8080 is taken. */
  demo: boolean;
  status: (line: string) => void;
}

export function cliWorldOptions(opts: CliOptions, c: CliWorldContext): WorldOptions {
  const faults =
    opts.latency !== null || opts.loss !== null || opts.bandwidth !== null
      ? { latencyMs: opts.latency ?? undefined, lossPercent: opts.loss ?? undefined, bandwidthKbps: opts.bandwidth ?? undefined }
      : undefined;
  return {
    logger: c.logger,
    board: { firmware: c.image, cpu: opts.cpu ?? undefined, wires: opts.wire },
    aps: opts.ap,
    maps: opts.map,
    hosts: opts.host,
    forwards: opts.forward,
    allowInternet: opts.allowInternet,
    restrict: opts.restrict,
    netLimits: { tcpPerBoard: opts.maxTcp ?? undefined, udpPerBoard: opts.maxUdp ?? undefined },
    pcapFile: opts.pcap ?? undefined,
    pcapMaxBytes: opts.pcapMax ?? undefined,
    faults,
    server: opts.noServer ? null : { port: opts.serverPort ?? 8080, fallback: c.demo, accessLog: opts.verbose },
    status: c.status,
  };
}
