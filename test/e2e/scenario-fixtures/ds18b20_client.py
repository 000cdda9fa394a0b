# The book's DS18B20 client: the sensor on GP22, a reading every 500 ms sent with a PUT,
# "Server Not Online" when the request fails.
import machine
import network
import onewire
import ds18x20
import time
import urequests

wlan = network.WLAN(network.STA_IF)
wlan.active(True)
wlan.connect('PicoW-Sim', 'picowsim')
while wlan.status() >= 0 and wlan.status() != 3:
    time.sleep_ms(100)
print('connected', wlan.ifconfig()[0])

ds = ds18x20.DS18X20(onewire.OneWire(machine.Pin(22)))
roms = ds.scan()
print('found', len(roms))
url = 'http://192.168.253.45:8080/temperature'
while True:
    ds.convert_temp()
    time.sleep_ms(750)
    for rom in roms:
        temp = ds.read_temp(rom)
        try:
            r = urequests.put(url, data=str(temp))
            r.close()
            print('sent', temp)
        except Exception:
            print('Server Not Online')
    time.sleep_ms(500)
