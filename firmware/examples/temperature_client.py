# Read the RP2040's internal temperature sensor (ADC channel 4) every 500 ms and PUT each
# reading to the collector; print "Server Not Online" when the request fails.
import time
import urequests
from machine import ADC
from wifi_setup import setup

SSID = "PicoW-Sim"
KEY = "picowsim"
url = "http://10.0.2.2:8080/temperature"

sensor = ADC(4)
wifi = setup("GB", SSID, KEY)

while True:
    volts = sensor.read_u16() * 3.3 / 65535
    temp = 27 - (volts - 0.706) / 0.001721
    try:
        r = urequests.put(url, data=str(temp).encode())
        r.close()
    except Exception:
        print("Server Not Online")
    time.sleep_ms(500)
