/** Public surface of the virtual network, for the board, the CLI and scenarios. */
export { VirtualNetwork, type NetAttachment, type VirtualNetworkOptions } from './network.ts';
export type { EthernetPort } from './port.ts';
export {
  EgressPolicy,
  NET_FLAGS_HELP,
  parseBandwidth,
  parseForwardSpec,
  parseHostSpec,
  parseLatency,
  parseLoss,
  parseMapSpec,
  parsePcapPath,
  type EgressDecision,
  type ForwardRule,
  type HostEntry,
  type LinkFaults,
  type MapRule,
} from './policy.ts';
export type { Lease } from './dhcp-server.ts';
export { DEFAULT_LIMITS, type NetLimits } from './limits.ts';
export type { ActiveForward } from './forward.ts';
export { DNS_IP, FIRST_LEASE_IP, GATEWAY_IP, GATEWAY_MAC, NETMASK } from './addressing.ts';
export { describeFrame } from './wire/describe.ts';
