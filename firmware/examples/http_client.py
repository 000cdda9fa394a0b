# The article's HTTP client: every request method against the echo server, printing what
# comes back. In the simulator 10.0.2.2 is the host computer (its 127.0.0.1).
import urequests
from wifi_setup import setup

SSID = "PicoW-Sim"
KEY = "picowsim"
url = "http://10.0.2.2:8080"

print("Joining Wi-Fi", SSID, "...")
wifi = setup("GB", SSID, KEY)
if wifi.status() != 3:
    raise RuntimeError("Wi-Fi join failed, status %d" % wifi.status())
print("Got IP", wifi.ifconfig()[0])
print("Requests to", url)

r = urequests.get(url)
print(r.content)
r.close()

buf = b"Hello World"
r = urequests.post(url, data=buf)
print(r.content)
r.close()

r = urequests.put(url, data=buf)
print(r.content)
r.close()

r = urequests.patch(url, data=buf)
print(r.content)
r.close()

r = urequests.head(url)
print(r.content)
print(r.headers)
r.close()

r = urequests.delete(url, data=buf)
print(r.content)
r.close()
