# Join a Wi-Fi network the way the article's helper does: set the country, switch the
# station interface on, connect, and wait for status 3 (got an IP) or a negative error,
# blinking the on-board LED from a Timer while waiting. Returns the WLAN object.
import network
import rp2
import time
from machine import Pin, Timer


def setup(country, ssid, key):
    rp2.country(country)
    wifi = network.WLAN(network.STA_IF)
    wifi.active(True)
    wifi.disconnect()
    led = Pin("LED", Pin.OUT)
    ticker = Timer()
    ticker.init(period=200, mode=Timer.PERIODIC, callback=lambda t: led.toggle())
    wifi.connect(ssid, key)
    deadline = time.ticks_add(time.ticks_ms(), 30000)
    status = wifi.status()
    while status != 3 and status >= 0 and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        time.sleep_ms(100)
        status = wifi.status()
    ticker.deinit()
    led.value(status == 3)
    return wifi
