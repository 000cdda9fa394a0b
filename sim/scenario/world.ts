/**
 * The real world of a scenario: a `PicoW` board running the firmware, its CYW43439 on a virtual
 * radio with the scenario's access points, the virtual network with maps/hosts/forwards, the
 * embedded servers, and the sensor models — plus the faults the runner applies.
 */
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { HostServer } from '../../server/index.ts';
import type { BoardEvent } from '../board/device.ts';
import { PicoW, describeHalt, type ConsoleSource } from '../board/picow.ts';
import { Cyw43439 } from '../cyw43/chip.ts';
import { VirtualRadio, type ApConfig } from '../cyw43/radio.ts';
import { UsageError } from '../errors.ts';
import { resolveFirmware } from '../firmware.ts';
import { networkSources, type EventStream } from '../events.ts';
import type { Logger } from '../log.ts';
import { GATEWAY_IP } from '../net/addressing.ts';
import { VirtualNetwork, type NetAttachment } from '../net/network.ts';
import type { MapRule } from '../net/policy.ts';
import { folderItems, uploadAll, usbStream, waitForFirstPrompt, type UploadItem } from '../repl/board-link.ts';
import { ReplClient } from '../repl/client.ts';
import { createSensors, type Timeline } from '../sensors/index.ts';
import type { ScenarioWorld, WorldFactory, WorldHooks, WorldTimer } from './runner.ts';
import type { ApSpec, FaultAction, Scenario, ServerSpec } from './schema.ts';

export interface BoardWorldOptions {
  /** `--firmware`; the scenario's own `firmware:` key wins. */
  firmware?: string;
  env?: Record<string, string | undefined>;
  offline?: boolean;
  /** Echo the board's output as it arrives (the CLI passes stdout). */
  onSerial?: (text: string) => void;
  /** Wall-clock limit for boot and upload (default 120 s). */
  setupTimeoutMs?: number;
  /** `--json`: the stream that reports what the board and its network do. */
  events?: EventStream;
  /**
   * Servers on free host ports, each reached by the board at 10.0.2.2 and its scenario port
   * (`picow-sim test` runs many scenarios at once).
   */
  isolatePorts?: boolean;
}

const NANOS = 1e9;

function apConfig(a: ApSpec): ApConfig {
  return {
    ssid: a.ssid,
    password: a.password,
    security: a.security === 'open' ? 'open' : a.security === 'wpa2' ? 'wpa2-psk' : 'wpa3-sae',
    channel: a.channel,
    rssi: a.rssi,
  };
}

/** Local files and folders of the scenario as upload items (checked before booting). */
export function scenarioUploads(s: Scenario): UploadItem[] {
  const items: UploadItem[] = [];
  for (const lib of s.lib) {
    if (statSync(lib).isDirectory()) items.push(...folderItems(lib, '/lib'));
    else items.push({ local: lib, remote: `/lib/${basename(lib)}` });
  }
  for (const f of s.files) items.push({ local: f.local, remote: `/${f.board}` });
  if (s.script) items.push({ local: s.script, remote: '/main.py' });
  return items;
}

interface RunningServer {
  spec: ServerSpec;
  port: number;
  server: HostServer | null;
}

/** A `WorldFactory` that builds the real simulation. */
export function boardWorld(opts: BoardWorldOptions = {}): WorldFactory {
  return async (s, hooks) => {
    const { logger, obs } = hooks;
    const uploads = scenarioUploads(s);
    const firmware = s.firmware ?? (await resolveFirmware({ option: opts.firmware, env: opts.env ?? process.env, offline: opts.offline, logger })).path;

    // Servers first: their ports feed the network's map rules.
    const servers = new Map<string, RunningServer>();
    let board: PicoW | null = null;
    // Scenario time 0 is when the program starts: power-on without a script, otherwise the moment
    // main.py starts after the upload (whose length depends on the host, not on the scenario).
    let originNanos: number | null = s.script ? null : 0;
    const simNow = (): number => (board && originNanos !== null ? (board.simClock.nanos - originNanos) / NANOS : 0);
    const shifted = (tl: Timeline): Timeline => ({
      valueAt: (sec) => tl.valueAt(sec - (originNanos ?? 0) / NANOS),
      meanAt: (sec) => tl.meanAt(sec - (originNanos ?? 0) / NANOS),
      description: tl.description,
    });
    const deferred: { seconds: number; cb: () => void; timer: WorldTimer | null; cancelled: boolean }[] = [];
    const startServer = async (r: RunningServer): Promise<void> => {
      const server = new HostServer({
        port: r.port,
        db: ':memory:',
        collectorPrefix: r.spec.collector ? undefined : false,
        methods: r.spec.methods,
        logger,
        accessLogger: logger,
      });
      server.on('reading', (reading) => obs.addReading({ t: simNow(), celsius: reading.celsius, sensor: reading.sensor, server: r.spec.name }));
      await server.start();
      r.server = server;
      r.port = server.port;
    };
    const stopAll = async (): Promise<void> => {
      for (const r of servers.values()) {
        const sv = r.server;
        r.server = null;
        await sv?.stop().catch(() => undefined);
      }
    };
    try {
      for (const spec of s.servers) {
        const r: RunningServer = { spec, port: opts.isolatePorts ? 0 : spec.port, server: null };
        servers.set(spec.name, r);
        await startServer(r);
        logger.info('scenario', `server ${spec.name} on 127.0.0.1:${r.port}${spec.collector ? ' (with the collector)' : ''}`);
      }
    } catch (e) {
      await stopAll();
      throw e;
    }
    const maps: MapRule[] = [...s.maps];
    for (const r of servers.values()) {
      if (r.spec.address) maps.push({ addr: r.spec.address.addr, port: r.spec.address.port, host: '127.0.0.1', hostPort: r.port });
      if (opts.isolatePorts && r.spec.port !== 0) maps.push({ addr: GATEWAY_IP, port: r.spec.port, host: '127.0.0.1', hostPort: r.port });
    }

    const radio = new VirtualRadio({ defaults: s.aps.length === 0, aps: s.aps.filter((a) => a.up).map(apConfig) });
    const chip = new Cyw43439({ radio, logger });
    const sensors = createSensors({
      temperature: s.sensors.adc4 ? shifted(s.sensors.adc4.timeline) : undefined,
      adc: s.sensors.adc.map((a) => (a ? shifted(a.timeline) : undefined)),
      ds18b20: s.sensors.ds18b20.map((d) => ({
        pin: d.pin,
        rom: d.rom,
        serial: d.serial,
        resolution: d.resolution,
        parasite: d.parasite,
        temperature: shifted(d.temperature.timeline),
        name: d.name,
      })),
      logger,
    });
    let net: VirtualNetwork | null = null;
    let link: NetAttachment | null = null;
    try {
      board = await PicoW.create({ firmware, devices: [chip, ...sensors.devices], logger });
      net = new VirtualNetwork({
        clock: board.simClock,
        hostIo: board.hostIo,
        logger,
        maps,
        hosts: s.hosts,
        forwards: s.forwards,
        allowInternet: s.allowInternet,
      });
      await net.start();
      link = net.attach(chip.port, board.name);
      opts.events?.attach({ board, ...networkSources(chip, net) });
    } catch (e) {
      board?.dispose();
      await net?.close().catch(() => undefined);
      await stopAll();
      throw e;
    }
    const b = board;
    const network = net;
    const att = link;

    // What the run observes.
    let recordUsb = !s.script; // with a script, USB is raw-REPL traffic until main.py starts
    const decoders = new Map<ConsoleSource, TextDecoder>();
    const record = (bytes: Uint8Array, source: ConsoleSource): void => {
      let d = decoders.get(source);
      if (!d) decoders.set(source, (d = new TextDecoder()));
      const text = d.decode(bytes, { stream: true });
      obs.addSerial(simNow(), text);
      opts.onSerial?.(text);
    };
    b.on('console', (bytes: Uint8Array, source: ConsoleSource) => {
      if (source !== 'usb' || recordUsb) record(bytes, source);
    });
    b.on('event', (e: BoardEvent) => {
      if (e.type === 'led') obs.addLed((e.nanos - (originNanos ?? b.simClock.nanos)) / NANOS, e.on);
      else if (e.type === 'halt' || e.type === 'bootsel') hooks.fail(`the board stopped: ${describeHalt(e)}`);
      else if (e.type === 'fault') hooks.fail(`the board faulted: ${e.message}`);
    });

    let disposed = false;
    const world: ScenarioWorld & { pause(): void } = {
      now: simNow,
      at(seconds: number, cb: () => void): WorldTimer {
        if (originNanos !== null) return b.simClock.schedule(Math.max(0, originNanos + seconds * NANOS - b.simClock.nanos), cb);
        // Before the program starts: scheduled once the origin is known.
        const d = { seconds, cb, timer: null as WorldTimer | null, cancelled: false };
        deferred.push(d);
        return { cancel: () => ((d.cancelled = true), d.timer?.cancel()) };
      },
      pause(): void {
        b.stop();
      },
      async start(): Promise<void> {
        if (!s.script) {
          b.start();
          return;
        }
        // The upload is host I/O: simulated time follows the wall clock meanwhile instead of
        // racing ahead while the board idles at the REPL.
        const hold = b.hostIo.begin('scenario upload');
        b.start();
        try {
          await loadProgram(b, uploads, logger, opts.setupTimeoutMs ?? 120_000, (leftover) => {
            const origin = b.simClock.nanos;
            originNanos = origin;
            recordUsb = true;
            if (leftover.length) record(leftover, 'usb');
            for (const d of deferred.splice(0)) {
              if (!d.cancelled) d.timer = b.simClock.schedule(Math.max(0, origin + d.seconds * NANOS - b.simClock.nanos), d.cb);
            }
          });
        } finally {
          hold.release();
        }
        logger.info('scenario', `main.py started ${((originNanos ?? 0) / NANOS).toFixed(3)} s after power-on; scenario time counts from here`);
      },
      async apply(a: FaultAction): Promise<void> {
        switch (a.kind) {
          case 'ap-down':
            radio.removeAp(a.ssid);
            return;
          case 'ap-up': {
            const spec = s.aps.find((x) => x.ssid === a.ssid)!;
            radio.addAp(apConfig(spec));
            return;
          }
          case 'link':
            att.setFaults(a.faults);
            return;
          case 'link-down':
            att.setLinkUp(false);
            return;
          case 'link-up':
            att.setLinkUp(true);
            return;
          case 'server-down': {
            const r = servers.get(a.server)!;
            const sv = r.server;
            r.server = null;
            await sv?.stop();
            return;
          }
          case 'server-up': {
            const r = servers.get(a.server)!;
            if (!r.server) await startServer(r);
            return;
          }
        }
      },
      async dispose(): Promise<void> {
        if (disposed) return;
        disposed = true;
        b.dispose();
        await network.close().catch(() => undefined);
        await stopAll();
      },
    };
    return world;
  };
}

/** Boot to the prompt, upload the files through the raw REPL, and start main.py. */
async function loadProgram(
  board: PicoW,
  uploads: UploadItem[],
  logger: Logger,
  timeoutMs: number,
  started: (leftover: Uint8Array) => void,
): Promise<void> {
  const prompt = await waitForFirstPrompt(board, timeoutMs);
  if (!prompt) logger.info('scenario', 'no MicroPython prompt seen after boot; trying the raw REPL anyway');
  const client = new ReplClient(usbStream(board), { logger, timeoutMs: 15_000 });
  try {
    await client.enterRawRepl();
    await uploadAll(client, uploads, logger);
    await client.resetToMain();
    started(client.reader.discard());
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new Error(`could not load the program: ${(e as Error).message}`);
  } finally {
    client.dispose();
  }
}
