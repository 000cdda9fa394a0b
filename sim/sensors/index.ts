/**
 * The sensor models as board devices: ADC inputs (channel 4 temperature, ADC0–ADC3 voltages) and
 * DS18B20 thermometers on 1-Wire buses, each input driven by a timeline over simulated time.
 */
import type { BoardDevice } from '../board/device.ts';
import type { Logger } from '../log.ts';
import { Ds18b20, type Ds18b20Options } from './ds18b20.ts';
import { DEFAULT_ONEWIRE_PIN, OneWireBus } from './onewire-bus.ts';
import { AdcSensors } from './temperature-adc.ts';
import type { Timeline } from './timeline.ts';

export * from './timeline.ts';
export * from './temperature-adc.ts';
export * from './onewire-bus.ts';
export * from './ds18b20.ts';

export interface SensorSetup {
  /** Die temperature for ADC channel 4 (°C); default 27 °C. */
  temperature?: Timeline;
  /** Volts on ADC0–ADC3. */
  adc?: readonly (Timeline | undefined)[];
  /** DS18B20s; devices with the same pin share one bus. */
  ds18b20?: readonly (Ds18b20Options & { pin?: number })[];
  logger?: Logger;
}

export interface SensorRig {
  adc: AdcSensors;
  buses: OneWireBus[];
  ds18b20: Ds18b20[];
  /** Everything to attach to a board. */
  devices: BoardDevice[];
}

export function createSensors(o: SensorSetup = {}): SensorRig {
  const adc = new AdcSensors({ temperature: o.temperature, channels: o.adc, logger: o.logger });
  const buses = new Map<number, OneWireBus>();
  const ds18b20: Ds18b20[] = [];
  for (const d of o.ds18b20 ?? []) {
    const pin = d.pin ?? DEFAULT_ONEWIRE_PIN;
    let bus = buses.get(pin);
    if (!bus) buses.set(pin, (bus = new OneWireBus({ pin, logger: o.logger })));
    const dev = new Ds18b20({ ...d, logger: d.logger ?? o.logger });
    bus.add(dev);
    ds18b20.push(dev);
  }
  return { adc, buses: [...buses.values()], ds18b20, devices: [adc, ...buses.values()] };
}
