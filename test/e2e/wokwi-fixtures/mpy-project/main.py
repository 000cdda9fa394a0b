# A Wokwi-style MicroPython project: an LED that follows a button, edge counters (hard IRQs,
# so every edge counts), and readers
# for the analog and digital sensors, called from the REPL by the scenario.
from machine import Pin, ADC
import time

led = Pin(15, Pin.OUT)
led.value(0)
btn1 = Pin(14, Pin.IN, Pin.PULL_UP)
btn2 = Pin(13, Pin.IN, Pin.PULL_UP)
sw = Pin(18, Pin.IN)
edges = {"btn1": 0, "btn2": 0}


def on_btn1(p):
    if p.irq().flags() & Pin.IRQ_FALLING:
        edges["btn1"] += 1
    led.value(1 - p.value())


def on_btn2(p):
    edges["btn2"] += 1


btn1.irq(on_btn1, Pin.IRQ_FALLING | Pin.IRQ_RISING, hard=True)
btn2.irq(on_btn2, Pin.IRQ_FALLING, hard=True)


def counts():
    print("edges", edges["btn1"], edges["btn2"])


def adc():
    print("pot", ADC(26).read_u16() >> 4, "ntc", ADC(27).read_u16() >> 4)


def dht22():
    import dht
    d = dht.DHT22(Pin(16))
    d.measure()
    print("dht", d.temperature(), d.humidity())


def ds():
    import onewire, ds18x20
    s = ds18x20.DS18X20(onewire.OneWire(Pin(17)))
    roms = s.scan()
    s.convert_temp()
    time.sleep_ms(750)
    print("ds", len(roms), s.read_temp(roms[0]))


def switch():
    print("switch", sw.value())



def wifi():
    import network
    w = network.WLAN(network.STA_IF)
    w.active(True)
    w.connect("Wokwi-GUEST", "")
    while w.status() != 3 and w.status() >= 0:
        time.sleep_ms(100)
    return w


def net():
    import socket
    w = wifi()
    print("net", w.status(), socket.getaddrinfo("host.wokwi.internal", 80)[0][-1][0])


def serve():
    import socket
    wifi()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 80))
    s.listen(1)
    print("listening")
    c, _ = s.accept()
    c.send(b"hello from the board\n")
    c.close()
    s.close()
    print("served")


print("project ready")
