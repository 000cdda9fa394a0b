# A station board: joins the hub board's AP (retrying until it is up) and pings it over UDP.
import network, socket, time

w = network.WLAN(network.STA_IF)
w.active(True)
for attempt in range(20):
    w.connect('HubNet', 'hubsecret1')
    t = time.ticks_ms()
    while w.status() not in (3, -3, -2) and time.ticks_diff(time.ticks_ms(), t) < 5000:
        time.sleep(0.1)
    if w.status() == 3:
        break
    w.disconnect()
    time.sleep(0.5)
print('joined', w.ifconfig()[0])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
for i in range(10):
    u.sendto(b'ping', ('192.168.4.1', 9000))
    try:
        print(u.recv(100))
        break
    except OSError:
        pass
