/**
 * Two boards on one radio and LAN through the test API (`PicoW.boot({ lan })`), both running the
 * reference firmware: one runs an access point (`WLAN(AP_IF)`), the other scans it, fails with a
 * wrong key, joins it, gets its address from the AP board's own DHCP server and talks TCP and
 * UDP with it — none of it on the 10.0.2.0/24 LAN — then roams to PicoW-Sim.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEER_LEAD_NANOS } from '../../sim/board/board-group.ts';
import { Lan, PicoW, UsageError } from '../../sim/index.ts';
import { e2eFirmware } from '../helpers/firmware.ts';

const fw = e2eFirmware();
const T = 180_000;

const JOIN = `import network, time
w = network.WLAN(network.STA_IF)
w.active(True)
def join(ssid, key):
    w.connect(ssid, key)
    for i in range(300):
        if w.status() < 0 or w.status() >= 3: break
        time.sleep(0.1)
    return w.status()`;

describe.skipIf(!fw)('a board as an access point that another board joins', () => {
  let lan: Lan;
  let hub: PicoW;
  let node: PicoW;
  let hubMac = '';
  let nodeMac = '';

  beforeAll(async () => {
    lan = new Lan();
    hub = await PicoW.boot({ lan, name: 'hub', firmware: fw! });
    node = await PicoW.boot({ lan, name: 'node', firmware: fw! });
    const up = await hub.exec(
      `import network, time
ap = network.WLAN(network.AP_IF)
ap.config(ssid='HubNet', key='hubsecret1', channel=3)
ap.active(True)
for i in range(50):
    if ap.status() == 3: break
    time.sleep_ms(100)
print(ap.active(), ap.ifconfig()[0], ap.config('mac').hex())`,
      { timeout: T },
    );
    const [active, ip, mac] = up.trim().split(' ');
    expect([active, ip]).toEqual(['True', '192.168.4.1']);
    hubMac = mac!;
    nodeMac = (await node.exec(`${JOIN}\nprint(w.config('mac').hex())`, { timeout: T })).trim();
  }, 2 * T);

  afterAll(async () => {
    await node?.dispose();
    await hub?.dispose();
  });

  it("another board's scan() shows the AP with the hub's MAC as BSSID, its channel and WPA2 security", async () => {
    const out = await node.exec(`for r in w.scan():\n    if r[0] == b'HubNet': print(r[1].hex(), r[2], r[4])`, { timeout: T });
    expect(out).toBe(`${hubMac} 3 5\n`);
  }, T);

  it('a wrong key fails with -3 and leaves no station on the AP', async () => {
    expect(await node.exec(`print(join('HubNet', 'not-the-key'))`, { timeout: T })).toBe('-3\n');
    expect(await hub.exec(`print(ap.status('stations'), ap.isconnected())`)).toBe('[] False\n');
  }, T);

  it("the right key joins: the hub's DHCP server gives 192.168.4.x, the hub lists the station", async () => {
    const out = await node.exec(`print(join('HubNet', 'hubsecret1'), w.ifconfig())`, { timeout: T });
    expect(out).toMatch(/^3 \('192\.168\.4\.(\d+)', '255\.255\.255\.0', '192\.168\.4\.1', '192\.168\.4\.1'\)\n$/);
    const stations = await hub.exec(`print([m[0].hex() for m in ap.status('stations')], ap.isconnected())`);
    expect(stations).toBe(`['${nodeMac}'] True\n`);
  }, T);

  it('TCP and UDP between the station and a server on the AP board, none of it on the LAN', async () => {
    const lanFrames = lan.network!.switch.frames;
    await hub.exec(`import socket
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(('0.0.0.0', 8080))
t.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', 9000))`);
    const server = hub.exec(
      `c, a = t.accept()
m = c.recv(100)
_ = c.send(b'tcp pong ' + m)
c.close()
d, a2 = u.recvfrom(100)
_ = u.sendto(b'udp pong ' + d, a2)
print('peer', a[0], a2[0])`,
      { timeout: T },
    );
    const client = await node.exec(
      `import socket
s = socket.socket()
s.connect(('192.168.4.1', 8080))
_ = s.send(b'ping')
print(s.recv(100))
s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(30)
_ = u.sendto(b'ping', ('192.168.4.1', 9000))
print(u.recv(100))
print(w.ifconfig()[0])`,
      { timeout: T },
    );
    const [tcp, udp, nodeIp] = client.trim().split('\n');
    expect([tcp, udp]).toEqual(["b'tcp pong ping'", "b'udp pong ping'"]);
    expect(await server).toBe(`peer ${nodeIp} ${nodeIp}\n`);
    expect(lan.network!.switch.frames).toBe(lanFrames);
    expect(lan.network!.leases().filter((l) => l.bound)).toEqual([]);
  }, T);

  it('STA and AP at once: the hub joins PicoW-Sim (10.0.2.15) while its station keeps talking to it', async () => {
    const out = await hub.exec(`${JOIN}\nprint(join('PicoW-Sim', 'picowsim'), w.ifconfig()[0], ap.ifconfig()[0], ap.isconnected())`, { timeout: T });
    expect(out).toBe('3 10.0.2.15 192.168.4.1 True\n');
    const served = hub.exec(`d, a = u.recvfrom(100)\n_ = u.sendto(b'still ' + d, a)`, { timeout: T });
    const ping = await node.exec(
      `u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nu.settimeout(30)\n_ = u.sendto(b'again', ('192.168.4.1', 9000))\nprint(u.recv(100))`,
      { timeout: T },
    );
    expect(ping).toBe("b'still again'\n");
    await served;
  }, T);

  it('roaming to PicoW-Sim: the hub sees the station leave, the LAN leases 10.0.2.16 to it', async () => {
    const out = await node.exec(`print(join('PicoW-Sim', 'picowsim'), w.ifconfig()[0])`, { timeout: T });
    expect(out).toBe('3 10.0.2.16\n');
    expect(await hub.exec(`print(ap.status('stations'), ap.isconnected())`)).toBe('[] False\n');
    const lease = lan.network!.leases().find((l) => l.bound && l.ip === 0x0a000210);
    expect(lease?.mac.replace(/:/g, '')).toBe(nodeMac);
  }, T);

  it('the AP going down drops its station: the station sees its link go down', async () => {
    expect(await node.exec(`print(join('HubNet', 'hubsecret1'))`, { timeout: T })).toBe('3\n');
    expect(await hub.exec(`print(len(ap.status('stations')))`)).toBe('1\n');
    await hub.exec(`ap.active(False)`);
    const out = await node.exec(
      `for i in range(100):
    if not w.isconnected(): break
    time.sleep(0.1)
print(w.isconnected(), [r[0] for r in w.scan() if r[0] == b'HubNet'])`,
      { timeout: T },
    );
    expect(out).toBe('False []\n');
    expect(lan.radio.getAp('HubNet')).toBeUndefined();
  }, T);

  it("a sleeping board's clock stays within a frame's lead of a board that computes", async () => {
    const sleeper = node.exec(`import time\nt = time.ticks_ms()\ntime.sleep(3)\nprint(time.ticks_diff(time.ticks_ms(), t))`, { timeout: T });
    const offsets: number[] = [];
    const sample = setInterval(() => offsets.push(node.board.clock.nanos - hub.board.clock.nanos), 5);
    const start = hub.board.clock.nanos;
    try {
      await hub.exec(`x = 0\nfor i in range(100000): x = (x + i) & 0xffff`, { timeout: T });
    } finally {
      clearInterval(sample);
    }
    expect(hub.board.clock.nanos - start).toBeGreaterThan(600e6);
    expect(offsets.length).toBeGreaterThan(20);
    // Without the group the sleeping node's clock jumps 3 s ahead (or, behind after the boards'
    // idle races, stays seconds away); with it, the node follows the computing hub: never more
    // than a frame's lead (plus what it computes itself) ahead, and only a few wall-clock
    // milliseconds of the hub's progress behind.
    const later = offsets.slice(10);
    expect(Math.max(...offsets)).toBeLessThan(PEER_LEAD_NANOS + 20e6);
    expect(Math.min(...later)).toBeGreaterThan(-250e6);
    // Once both sleep, both clocks move on: the node wakes after its 3 s.
    expect(await sleeper).toMatch(/^30\d\d\n$/);
  }, T);

  it('a second board of the same name on the LAN is refused', async () => {
    await expect(PicoW.boot({ lan, name: 'hub', firmware: fw! })).rejects.toThrow(UsageError);
    await expect(PicoW.boot({ lan, name: 'other', firmware: fw!, aps: ['X:12345678'] })).rejects.toThrow(/takes these from the Lan/);
  }, T);
});
