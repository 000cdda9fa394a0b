/**
 * The session layer: one way to build a world from options (world.ts), boot a board of it to
 * MicroPython's prompt and run a program on it (program.ts), and watch its console (console.ts).
 * The CLI, the test API, the scenario runner, the benchmarks and the test helpers call it.
 */
export { Lan, type LanMember, type LanOptions } from './lan.ts';
export { parseApSpec, parseForwardSpec, parseHostSpec, parseMapSpec } from './specs.ts';
export { asSimError, buildWorld, sensorSetup, DEFAULT_BOARD_NAME, type BoardSpec, type EmbeddedServerSpec, type NetworkSpec, type World, type WorldBoard, type WorldOptions } from './world.ts';
export { bootBoard, bootToPrompt, startMain, watchMain, writeFiles, PROMPT, type Booted, type BootOptions, type ProgramFile, type StartMainOptions } from './program.ts';
export { ConsoleDecoder, ExpectSet, OutputLog, OutputTimeout, matchEnd } from './console.ts';
