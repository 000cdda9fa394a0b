/** ICMP echo (RFC 792): the reply to an echo request copies identifier, sequence and data. */
import { buildIcmp, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, type IcmpMessage } from './wire/icmp.ts';

/** The ICMP payload answering `msg`, or null if `msg` is not a valid echo request. */
export function echoReply(msg: IcmpMessage): Uint8Array | null {
  if (msg.type !== ICMP_ECHO_REQUEST || msg.code !== 0 || !msg.checksumValid) return null;
  return buildIcmp(ICMP_ECHO_REPLY, 0, msg.rest, msg.body);
}
