# An access point board: serves one UDP datagram on 9000 with 'pong ' + what came.
import network, socket

ap = network.WLAN(network.AP_IF)
ap.config(ssid='HubNet', key='hubsecret1')
ap.active(True)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', 9000))
print('hub ready')
d, a = u.recvfrom(100)
u.sendto(b'pong ' + d, a)
print('served', a[0])
