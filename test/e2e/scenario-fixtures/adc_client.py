# The book's temperature client, with the internal sensor: a reading every 500 ms, PUT to the
# collector, "Server Not Online" when the request fails.
import machine
import network
import time
import urequests

wlan = network.WLAN(network.STA_IF)
wlan.active(True)
wlan.connect('PicoW-Sim', 'picowsim')
while wlan.status() >= 0 and wlan.status() != 3:
    time.sleep_ms(100)
print('connected', wlan.ifconfig()[0])
machine.Pin('LED').on()

sensor = machine.ADC(4)
url = 'http://192.168.253.45:8080/temperature'
while True:
    v = sensor.read_u16() * 3.3 / 65535
    temp = 27 - (v - 0.706) / 0.001721
    try:
        r = urequests.put(url, data=str(temp))
        r.close()
        print('sent', temp)
    except Exception as e:
        print('Server Not Online', repr(e))
    time.sleep_ms(500)
