# A DS18B20 on GP22 read every 500 ms; each temperature is sent to the collector with PUT,
# and "Server Not Online" is printed when the request fails.
import time
import onewire
import ds18x20
import urequests
from machine import Pin
from wifi_setup import setup

SSID = "PicoW-Sim"
KEY = "picowsim"
url = "http://10.0.2.2:8080/temperature"

wifi = setup("GB", SSID, KEY)
bus = ds18x20.DS18X20(onewire.OneWire(Pin(22)))
roms = bus.scan()
print("DS18B20 found:", len(roms))

while True:
    bus.convert_temp()
    time.sleep_ms(750)
    temp = bus.read_temp(roms[0])
    try:
        r = urequests.put(url, data=str(temp).encode())
        r.close()
    except Exception:
        print("Server Not Online")
    time.sleep_ms(500)
