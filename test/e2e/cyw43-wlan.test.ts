/**
 * The virtual CYW43439 under the unmodified MicroPython firmware: bring-up, MAC, country, txpower,
 * power management, scan, join with each status code, disconnect, AP loss and recovery, RSSI,
 * the on-board LED, AP mode, and the book's setup() helper (with the virtual network for DHCP).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PicoWBoard } from '../../sim/board/picow.ts';
import { Cyw43439 } from '../../sim/cyw43/chip.ts';
import { VirtualRadio } from '../../sim/cyw43/radio.ts';
import { VirtualNetwork } from '../../sim/net/network.ts';
import { bootToPrompt, runPy } from '../helpers/board.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const T = 120_000;

/** Poll status() until it leaves the joining states (or 10 s of simulated time). */
const WAIT_JOIN = `
def wait_join(w, until=(2, 3)):
    for i in range(100):
        s = w.status()
        if s < 0 or s in until:
            return s
        time.sleep_ms(100)
    return w.status()
`;

describe.skipIf(!fw)('CYW43439 with the reference firmware: station', () => {
  let board: PicoWBoard;
  const radio = new VirtualRadio({ aps: [{ ssid: 'Home-WPA3', password: 'sae-secret', security: 'wpa3-sae', channel: 11, rssi: -63 }] });
  const chip = new Cyw43439({ radio });

  beforeAll(async () => {
    board = await bootToPrompt(fw!, { devices: [chip] });
    await runPy(board, `import network, rp2, time\nw = network.WLAN(network.STA_IF)\n${WAIT_JOIN}`, T);
  }, T);
  afterAll(() => board?.dispose());

  it('active(True) brings the chip up; config("mac") is a stable locally administered MAC', async () => {
    const out = await runPy(board, `w.active(True)\nprint(w.active())\nm = w.config('mac')\nprint(m.hex(), m == w.config('mac'))`, T);
    const [active, macLine] = out.trim().split('\n');
    expect(active).toBe('True');
    const [hex, same] = macLine!.split(' ');
    expect(same).toBe('True');
    expect(hex).toMatch(/^[0-9a-f]{12}$/);
    expect(parseInt(hex!.slice(0, 2), 16) & 0x03).toBe(0x02); // unicast, locally administered
    expect(hex).toBe(Buffer.from(chip.macAddress).toString('hex'));
    expect(chip.firmwareRunning).toBe(true);
    expect(board.output).not.toContain('Failed to start CYW43');
  }, T);

  it('rp2.country, txpower and pm do not fail and read back', async () => {
    const out = await runPy(
      board,
      `rp2.country('GB')\nprint(rp2.country())\nw.config(txpower=10)\nprint(w.config('txpower'))\nw.config(pm=w.PM_NONE)\nprint(w.config('pm') == w.PM_NONE)`,
      T,
    );
    expect(out).toBe('GB\n10\nTrue\n');
  }, T);

  // Before the joins and link faults: their host-driven timing must not be able to interleave
  // driver activity (a chip restart clears GPIO 0) with the LED sequence timed here.
  it('Pin("LED") on/off/toggle/value drive chip GPIO 0, with led events in simulated time', async () => {
    const events: { on: boolean; nanos: number }[] = [];
    const onEvent = (e: { type: string; on?: boolean; nanos: number }) => {
      if (e.type === 'led') events.push({ on: e.on!, nanos: e.nanos });
    };
    board.on('event', onEvent);
    try {
      const out = await runPy(
        board,
        `from machine import Pin\nled = Pin('LED', Pin.OUT)\nled.off()\nled.on()\nprint(led.value())\ntime.sleep_ms(50)\nled.toggle()\nprint(led.value())\nled.value(1)\nprint(led.value())`,
        T,
      );
      expect(out).toBe('1\n0\n1\n');
    } finally {
      board.off('event', onEvent);
    }
    expect(chip.led).toBe(true);
    expect(events.map((e) => e.on)).toEqual([true, false, true]);
    expect(events[1]!.nanos - events[0]!.nanos).toBeGreaterThanOrEqual(50e6);
    expect(chip.ledHistory.slice(-3).map((e) => e.on)).toEqual([true, false, true]);
  }, T);

  it('scan() returns every AP of the radio with its BSSID, channel, RSSI and security', async () => {
    const out = await runPy(
      board,
      `for r in sorted(w.scan()):\n    print(r[0].decode(), r[1].hex(), r[2], r[3], r[4])`,
      T,
    );
    const want = radio
      .list()
      .slice()
      .sort((a, b) => (a.ssid < b.ssid ? -1 : 1))
      .map((ap) => `${ap.ssid} ${Buffer.from(ap.bssid).toString('hex')} ${ap.channel} ${ap.rssi} ${ap.security === 'open' ? 0 : 5}`);
    expect(out.trim().split('\n')).toEqual(want);
  }, T);

  it('right password: link up (status 2 without DHCP; 3 with a static ifconfig), RSSI readable', async () => {
    const out = await runPy(
      board,
      `w.connect('PicoW-Sim', 'picowsim')\nprint(wait_join(w))\nprint(w.status('rssi'))\n` +
        `w.ifconfig(('192.168.50.20', '255.255.255.0', '192.168.50.1', '192.168.50.1'))\nprint(w.status(), w.isconnected())`,
      T,
    );
    expect(out).toBe(`2\n${radio.getAp('PicoW-Sim')!.rssi}\n3 True\n`);
    expect(chip.associatedSsid).toBe('PicoW-Sim');
  }, T);

  it('disconnect(): link down', async () => {
    const out = await runPy(board, `w.disconnect()\ntime.sleep_ms(200)\nprint(w.status(), w.isconnected())`, T);
    expect(out).toBe('0 False\n');
    expect(chip.stationLinkUp).toBe(false);
  }, T);

  it('wrong password: status -3', async () => {
    const out = await runPy(board, `w.connect('PicoW-Sim', 'not-the-password')\nprint(wait_join(w))`, T);
    expect(out).toBe('-3\n');
  }, T);

  it('unknown SSID: status -2', async () => {
    const out = await runPy(board, `w.connect('No-Such-Network', 'whatever123')\nprint(wait_join(w))`, T);
    expect(out).toBe('-2\n');
  }, T);

  it('WPA3-SAE: joins with security=SEC_WPA3 and the right password; a wrong one gives -3', async () => {
    const out = await runPy(
      board,
      `w.connect('Home-WPA3', 'wrong-secret', security=w.SEC_WPA3)\nprint(wait_join(w))\n` +
        `w.connect('Home-WPA3', 'sae-secret', security=w.SEC_WPA3)\nprint(wait_join(w) in (2, 3), w.status('rssi'))`,
      T,
    );
    expect(out).toBe('-3\nTrue -63\n');
    expect(chip.associatedSsid).toBe('Home-WPA3');
  }, T);

  it('AP removed while connected: isconnected() goes False; a later connect() recovers', async () => {
    await runPy(board, `w.connect('PicoW-Sim', 'picowsim')\nprint(wait_join(w, (3,)))`, T);
    expect(chip.stationLinkUp).toBe(true);
    const ap = radio.getAp('PicoW-Sim')!;
    radio.removeAp('PicoW-Sim');
    const down = await runPy(board, `time.sleep_ms(300)\nprint(w.isconnected(), w.status() != 3)`, T);
    expect(down).toBe('False True\n');
    radio.addAp(ap);
    const up = await runPy(board, `w.connect('PicoW-Sim', 'picowsim')\nprint(wait_join(w, (3,)), w.isconnected())`, T);
    expect(up).toBe('3 True\n');
  }, T);

  it('a link fault drops the link; the firmware rejoins when it clears', async () => {
    radio.setLink(false);
    const down = await runPy(board, `time.sleep_ms(300)\nprint(w.isconnected())`, T);
    expect(down).toBe('False\n');
    radio.setLink(true);
    const up = await runPy(board, `print(wait_join(w, (3,)), w.isconnected())`, T);
    expect(up).toBe('3 True\n');
  }, T);

  it('AP_IF active(True) works: the board AP appears in the radio', async () => {
    const out = await runPy(
      board,
      `ap = network.WLAN(network.AP_IF)\nap.config(ssid='PicoAP-e2e', key='apsecret99')\nap.active(True)\ntime.sleep_ms(100)\nprint(ap.active())`,
      T,
    );
    expect(out).toBe('True\n');
    const mine = radio.getAp('PicoAP-e2e');
    expect(mine?.security).toBe('wpa2-psk');
    expect(chip.apActive).toBe(true);
  }, T);

  it('unknown ioctls from Python are answered, not hung', async () => {
    const out = await runPy(board, `b = bytearray(4)\nw.ioctl(0x1f0 << 1, b)\nprint('alive', w.status('rssi') < 0)`, T);
    expect(out).toBe('alive True\n');
    expect(chip.stats.control!.unknown).toBeGreaterThan(0);
  }, T);
});

describe.skipIf(!fw)("CYW43439 with the reference firmware: the book's setup() helper", () => {
  let board: PicoWBoard;
  let net: VirtualNetwork;
  const chip = new Cyw43439({ identity: 'setup-helper-board' });

  beforeAll(async () => {
    board = await bootToPrompt(fw!, { devices: [chip], name: 'setup-helper-board' });
    net = new VirtualNetwork({ clock: board.simClock, hostIo: board.hostIo });
    await net.start();
    net.attach(chip.port, board.name);
  }, T);
  afterAll(async () => {
    board?.dispose();
    await net?.close();
  });

  it('joins with rp2.country, active, connect, polling status() while a Timer blinks the LED; DHCP gives status 3', async () => {
    const code = `
import network, rp2, time
from machine import Pin, Timer

def setup(country, ssid, key):
    rp2.country(country)
    wifi = network.WLAN(network.STA_IF)
    wifi.active(True)
    wifi.disconnect()
    LED = Pin("LED", Pin.OUT)
    LED.high()
    timeout = 20000
    wifi.connect(ssid, key)
    timer = Timer()
    def blink(t):
        LED.toggle()
    timer.init(period=200, mode=Timer.PERIODIC, callback=blink)
    while timeout > 0:
        s = wifi.status()
        if s == 3 or s < 0:
            break
        time.sleep_ms(100)
        timeout = timeout - 100
    timer.deinit()
    if s < 0:
        LED.low()
    else:
        LED.high()
    return wifi

wifi = setup("GB", "PicoW-Sim", "picowsim")
print(wifi.status(), wifi.isconnected(), wifi.ifconfig()[0])
`;
    const before = chip.ledHistory.length;
    const out = await runPy(board, code, T);
    const [status, connected, ip] = out.trim().split(' ');
    expect(status).toBe('3');
    expect(connected).toBe('True');
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(chip.led).toBe(true);
    expect(chip.ledHistory.length - before).toBeGreaterThanOrEqual(1);
  }, T);
});
