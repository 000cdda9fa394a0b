/**
 * A MicroPython client for scenario suites: join the default AP, POST `name` to the scenario's
 * server at 10.0.2.2:8080 and print the answer ("This is a POST request. Received: NAME").
 */
export function postClient(name: string): string {
  return `import network, time, urequests
w = network.WLAN(network.STA_IF)
w.active(True)
w.connect('PicoW-Sim', 'picowsim')
while w.status() != 3:
    time.sleep(0.1)
r = urequests.post('http://10.0.2.2:8080/', data=${JSON.stringify(name)})
print(r.content.decode())
`;
}
