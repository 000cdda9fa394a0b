/**
 * A USB CDC ACM device that is not MicroPython's: a bare-metal C program of our own (no Pico SDK,
 * no USB stack) that drives the RP2040's USB controller from its registers, with its own
 * VID/PID (pid.codes test IDs 1209:0001), strings, interface order (data 0, communication 1),
 * endpoint numbers (bulk IN 0x83, bulk OUT 0x04, notification 0x85) and a device-level CDC class
 * without an interface association. The simulated USB host has to enumerate it from its
 * descriptors for its line to reach the console and typed input to reach it. Compiled here with
 * Debian's gcc-arm-none-eabi; the test skips when the compiler is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PicoWBoard } from '../../sim/board/picow.ts';
import { Logger } from '../../sim/log.ts';
import { runCli } from '../helpers/cli.ts';
import { buildBareC, HAVE_ARM_GCC, type BareProgram } from '../helpers/bare-c.ts';

const haveGcc = HAVE_ARM_GCC;
if (!haveGcc) console.log('csdk-bare-usb: skipped, arm-none-eabi-gcc not found (Debian: apt-get install gcc-arm-none-eabi)');

const HELLO = 'hello from a bare USB CDC device\r\n';

/** RP2040 datasheet §4.1 (USB), §2.14 (RESETS), §2.8.1 (boot2); USB 2.0 §9; CDC PSTN 1.2. */
const SOURCE = String.raw`/*
 * A USB CDC ACM device with no USB stack: the RP2040's USB controller driven from its registers
 * (RP2040 datasheet §4.1). It prints one line once the host opens the port (DTR) and echoes
 * what it receives in upper case.
 */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define REG(addr) (*(volatile u32 *)(addr))

/* RESETS (§2.14): USBCTRL is bit 24; +0x3000 is the atomic clear alias (§2.1.2). */
#define RESETS_RESET_CLR REG(0x4000c000 + 0x3000)
#define RESETS_RESET_DONE REG(0x4000c008)
#define RESET_USBCTRL (1u << 24)

/* USBCTRL_REGS (§4.1.4). */
#define USB_REGS 0x50110000
#define USB_ADDR_ENDP REG(USB_REGS + 0x00)
#define USB_MAIN_CTRL REG(USB_REGS + 0x40)
#define USB_SIE_CTRL REG(USB_REGS + 0x4c)
#define USB_SIE_STATUS REG(USB_REGS + 0x50)
#define USB_BUFF_STATUS REG(USB_REGS + 0x58)
#define USB_EP_STALL_ARM REG(USB_REGS + 0x68)
#define USB_USB_MUXING REG(USB_REGS + 0x74)
#define USB_USB_PWR REG(USB_REGS + 0x78)
#define USB_INTE REG(USB_REGS + 0x90)
#define USB_INTS REG(USB_REGS + 0x98)

#define MAIN_CTRL_CONTROLLER_EN (1u << 0)
#define SIE_CTRL_EP0_INT_1BUF (1u << 29)
#define SIE_CTRL_PULLUP_EN (1u << 16)
#define SIE_STATUS_BUS_RESET (1u << 19)
#define SIE_STATUS_SETUP_REC (1u << 17)
#define MUXING_SOFTCON (1u << 3)
#define MUXING_TO_PHY (1u << 0)
#define PWR_VBUS_DETECT_OVERRIDE_EN (1u << 3)
#define PWR_VBUS_DETECT (1u << 2)
#define INT_SETUP_REQ (1u << 16)
#define INT_BUS_RESET (1u << 12)
#define INT_BUFF_STATUS (1u << 4)

/* USB DPSRAM (§4.1.2.5): setup packet, endpoint control, buffer control, EP0 buffer, data buffers. */
#define DPRAM 0x50100000
#define DPRAM_SIZE 4096
#define EP_CTRL_IN(n) REG(DPRAM + 0x08 + ((n) - 1) * 8)
#define EP_CTRL_OUT(n) REG(DPRAM + 0x0c + ((n) - 1) * 8)
#define BUF_CTRL_IN(n) REG(DPRAM + 0x80 + (n) * 8)
#define BUF_CTRL_OUT(n) REG(DPRAM + 0x84 + (n) * 8)
#define EP0_BUF (DPRAM + 0x100)
#define EP_CTRL_ENABLE (1u << 31)
#define EP_CTRL_INTERRUPT_PER_BUFF (1u << 29)
#define EP_CTRL_TYPE_BULK (2u << 26)
#define EP_CTRL_TYPE_INTERRUPT (3u << 26)
#define BUF_FULL (1u << 15)
#define BUF_LAST (1u << 14)
#define BUF_DATA1 (1u << 13)
#define BUF_STALL (1u << 11)
#define BUF_AVAILABLE (1u << 10)
#define BUF_LEN_MASK 0x3ffu

/* NVIC (Cortex-M0+): interrupt set-enable; USBCTRL_IRQ is IRQ 5 (§2.3.2). */
#define NVIC_ISER REG(0xe000e100)
#define USBCTRL_IRQ 5

/* Our function: data interface first, then the communication interface. */
#define ITF_DATA 0
#define ITF_COMM 1
#define EP_DATA_IN 3     /* 0x83 */
#define EP_DATA_OUT 4    /* 0x04 */
#define EP_NOTIFY 5      /* 0x85 */
#define BUF_DATA_IN (DPRAM + 0x180)
#define BUF_DATA_OUT (DPRAM + 0x1c0)
#define BUF_NOTIFY (DPRAM + 0x200)
#define EP0_SIZE 64
#define BULK_SIZE 64

static const u8 device_desc[18] = {
    18, 1,          /* bLength, DEVICE */
    0x00, 0x02,     /* USB 2.00 */
    0x02, 0x00, 0x00, /* class CDC at device level, no IAD */
    EP0_SIZE,
    0x09, 0x12,     /* idVendor 0x1209 */
    0x01, 0x00,     /* idProduct 0x0001 */
    0x01, 0x01,     /* bcdDevice 1.01 */
    1, 2, 3,        /* iManufacturer, iProduct, iSerialNumber */
    1,              /* bNumConfigurations */
};

#define CONFIG_TOTAL (9 + 9 + 7 + 7 + 9 + 5 + 5 + 4 + 5 + 7)
static const u8 config_desc[CONFIG_TOTAL] = {
    9, 2, CONFIG_TOTAL, 0, 2, 1, 0, 0x80, 50, /* 2 interfaces, configuration 1, bus powered 100 mA */
    /* interface 0: CDC data, bulk IN 0x83 and bulk OUT 0x04 */
    9, 4, ITF_DATA, 0, 2, 0x0a, 0x00, 0x00, 0,
    7, 5, 0x80 | EP_DATA_IN, 2, BULK_SIZE, 0, 0,
    7, 5, EP_DATA_OUT, 2, BULK_SIZE, 0, 0,
    /* interface 1: CDC communication, ACM, AT commands */
    9, 4, ITF_COMM, 0, 1, 0x02, 0x02, 0x01, 0,
    5, 0x24, 0x00, 0x20, 0x01,     /* header, CDC 1.20 */
    5, 0x24, 0x01, 0x00, ITF_DATA, /* call management */
    4, 0x24, 0x02, 0x02,           /* ACM: line coding and line state requests */
    5, 0x24, 0x06, ITF_COMM, ITF_DATA, /* union */
    7, 5, 0x80 | EP_NOTIFY, 3, 16, 0, 32,
};

static const char *const strings[] = {
    0,
    "picow-sim tests",
    "Bare-metal CDC ACM device without any USB stack",
    "BARE-0001",
};

static const char hello[] = "hello from a bare USB CDC device\r\n";

/* EP0 state. */
enum { EP0_IDLE, EP0_DATA_IN, EP0_STATUS_OUT, EP0_DATA_OUT, EP0_STATUS_IN };
static u32 ep0_stage;
static const u8 *ep0_src;
static u32 ep0_left;
static u32 ep0_zlp;
static u32 ep0_pid;
static u32 ep0_request;
static u32 pending_address;
static u8 string_buf[2 + 2 * 63];

static u32 configured;
static u32 greeted;
static u8 line_coding[7] = {0x80, 0x25, 0, 0, 0, 0, 8}; /* 9600 8N1 until the host sets one */
static u32 line_state;

/* Bulk IN: a ring of bytes waiting to go out. */
#define TX_SIZE 256
static u8 tx_ring[TX_SIZE];
static u32 tx_head, tx_tail;
static u32 in_busy, in_pid, out_pid, out_waiting;

void *memcpy(void *dst, const void *src, u32 n) {
  u8 *d = dst;
  const u8 *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void *memset(void *dst, int c, u32 n) {
  u8 *d = dst;
  while (n--) *d++ = (u8)c;
  return dst;
}

/* DPRAM is written and read a word at a time. */
static void to_dpram(u32 addr, const u8 *src, u32 n) {
  for (u32 i = 0; i < n; i += 4) {
    u32 w = 0;
    for (u32 k = 0; k < 4 && i + k < n; k++) w |= (u32)src[i + k] << (8 * k);
    REG(addr + i) = w;
  }
}

static void from_dpram(u8 *dst, u32 addr, u32 n) {
  for (u32 i = 0; i < n; i += 4) {
    u32 w = REG(addr + i);
    for (u32 k = 0; k < 4 && i + k < n; k++) dst[i + k] = (u8)(w >> (8 * k));
  }
}

/* §4.1.2.5.1: set AVAILABLE only after the rest of the buffer control word is in place. */
static void arm(volatile u32 *buf_ctrl, u32 value) {
  *buf_ctrl = value;
  __asm__ volatile("nop\n nop\n nop\n nop\n nop\n nop");
  *buf_ctrl = value | BUF_AVAILABLE;
}

static void ep0_in_packet(void) {
  u32 n = ep0_left > EP0_SIZE ? EP0_SIZE : ep0_left;
  to_dpram(EP0_BUF, ep0_src, n);
  ep0_src += n;
  ep0_left -= n;
  if (n == 0) ep0_zlp = 0;
  arm(&BUF_CTRL_IN(0), n | BUF_FULL | (ep0_pid ? BUF_DATA1 : 0));
  ep0_pid ^= 1;
}

/* Answer an IN request with len bytes (no more than the host asked for). */
static void ep0_send(const u8 *data, u32 len, u32 requested) {
  if (len > requested) len = requested;
  ep0_src = data;
  ep0_left = len;
  ep0_zlp = len < requested && len % EP0_SIZE == 0;
  ep0_stage = EP0_DATA_IN;
  ep0_in_packet();
}

/* The status stage of a request without IN data: a zero-length DATA1 packet. */
static void ep0_status_in(void) {
  ep0_stage = EP0_STATUS_IN;
  arm(&BUF_CTRL_IN(0), BUF_FULL | BUF_DATA1);
}

static void ep0_stall(void) {
  ep0_stage = EP0_IDLE;
  USB_EP_STALL_ARM = 3;
  BUF_CTRL_IN(0) = BUF_STALL;
  BUF_CTRL_OUT(0) = BUF_STALL;
}

static u32 tx_count(void) { return (tx_head - tx_tail) & (TX_SIZE - 1); }

static void tx_put(u8 c) {
  if (tx_count() < TX_SIZE - 1) {
    tx_ring[tx_head] = c;
    tx_head = (tx_head + 1) & (TX_SIZE - 1);
  }
}

static void arm_out(void) {
  arm(&BUF_CTRL_OUT(EP_DATA_OUT), BULK_SIZE | (out_pid ? BUF_DATA1 : 0));
  out_pid ^= 1;
}

static void tx_kick(void) {
  u8 packet[BULK_SIZE];
  u32 n = 0;
  if (!configured || in_busy) return;
  while (n < BULK_SIZE && tx_count() > 0) {
    packet[n++] = tx_ring[tx_tail];
    tx_tail = (tx_tail + 1) & (TX_SIZE - 1);
  }
  if (n == 0) return;
  to_dpram(BUF_DATA_IN, packet, n);
  in_busy = 1;
  arm(&BUF_CTRL_IN(EP_DATA_IN), n | BUF_FULL | (in_pid ? BUF_DATA1 : 0));
  in_pid ^= 1;
  /* Room again for a whole OUT packet: take the next one. */
  if (out_waiting && TX_SIZE - 1 - tx_count() >= BULK_SIZE) {
    out_waiting = 0;
    arm_out();
  }
}

static void set_configuration(u32 value) {
  configured = value == 1;
  if (!configured) return;
  EP_CTRL_IN(EP_DATA_IN) = EP_CTRL_ENABLE | EP_CTRL_INTERRUPT_PER_BUFF | EP_CTRL_TYPE_BULK | (BUF_DATA_IN - DPRAM);
  EP_CTRL_OUT(EP_DATA_OUT) = EP_CTRL_ENABLE | EP_CTRL_INTERRUPT_PER_BUFF | EP_CTRL_TYPE_BULK | (BUF_DATA_OUT - DPRAM);
  EP_CTRL_IN(EP_NOTIFY) = EP_CTRL_ENABLE | EP_CTRL_INTERRUPT_PER_BUFF | EP_CTRL_TYPE_INTERRUPT | (BUF_NOTIFY - DPRAM);
  in_pid = out_pid = 0;
  in_busy = 0;
  out_waiting = 0;
  arm_out();
}

static const u8 *string_descriptor(u32 index, u32 *len) {
  if (index == 0) {
    static const u8 langids[4] = {4, 3, 0x09, 0x04};
    *len = 4;
    return langids;
  }
  if (index >= sizeof strings / sizeof strings[0]) return 0;
  const char *s = strings[index];
  u32 n = 0;
  while (s[n] && n < 63) {
    string_buf[2 + 2 * n] = (u8)s[n];
    string_buf[3 + 2 * n] = 0;
    n++;
  }
  string_buf[0] = (u8)(2 + 2 * n);
  string_buf[1] = 3;
  *len = 2 + 2 * n;
  return string_buf;
}

static void handle_setup(void) {
  u32 w0 = REG(DPRAM), w1 = REG(DPRAM + 4);
  u32 type = w0 & 0xff, request = (w0 >> 8) & 0xff, value = w0 >> 16;
  u32 index = w1 & 0xffff, length = w1 >> 16;
  USB_SIE_STATUS = SIE_STATUS_SETUP_REC;
  ep0_stage = EP0_IDLE;
  ep0_pid = 1;
  ep0_request = request;
  static u8 reply[2];
  if (type == 0x80 && request == 6) { /* GET_DESCRIPTOR */
    u32 len = 0;
    const u8 *d = 0;
    switch (value >> 8) {
      case 1: d = device_desc; len = sizeof device_desc; break;
      case 2: d = config_desc; len = sizeof config_desc; break;
      case 3: d = string_descriptor(value & 0xff, &len); break;
    }
    if (d) ep0_send(d, len, length);
    else ep0_stall();
  } else if (type == 0x00 && request == 5) { /* SET_ADDRESS: takes effect after the status stage */
    pending_address = value & 0x7f;
    ep0_status_in();
  } else if (type == 0x00 && request == 9) { /* SET_CONFIGURATION */
    set_configuration(value & 0xff);
    ep0_status_in();
  } else if (type == 0x80 && request == 8) { /* GET_CONFIGURATION */
    reply[0] = (u8)configured;
    ep0_send(reply, 1, length);
  } else if ((type & 0x80) && request == 0) { /* GET_STATUS */
    reply[0] = reply[1] = 0;
    ep0_send(reply, 2, length);
  } else if (type == 0x21 && index == ITF_COMM && request == 0x20 && length == 7) { /* SET_LINE_CODING */
    ep0_stage = EP0_DATA_OUT;
    arm(&BUF_CTRL_OUT(0), EP0_SIZE | BUF_DATA1);
  } else if (type == 0xa1 && index == ITF_COMM && request == 0x21) { /* GET_LINE_CODING */
    ep0_send(line_coding, sizeof line_coding, length);
  } else if (type == 0x21 && index == ITF_COMM && request == 0x22) { /* SET_CONTROL_LINE_STATE */
    line_state = value;
    ep0_status_in();
    if ((value & 1) && configured && !greeted) { /* DTR: a terminal opened the port */
      greeted = 1;
      for (const char *p = hello; *p; p++) tx_put((u8)*p);
      tx_kick();
    }
  } else {
    ep0_stall();
  }
}

static void handle_buffers(u32 done) {
  if (done & (1u << 0)) { /* EP0 IN */
    if (ep0_stage == EP0_DATA_IN) {
      if (ep0_left > 0 || ep0_zlp) {
        ep0_in_packet();
      } else {
        ep0_stage = EP0_STATUS_OUT; /* the host's zero-length OUT packet */
        arm(&BUF_CTRL_OUT(0), BUF_DATA1);
      }
    } else if (ep0_stage == EP0_STATUS_IN) {
      ep0_stage = EP0_IDLE;
      if (ep0_request == 5) USB_ADDR_ENDP = pending_address;
    }
  }
  if (done & (1u << 1)) { /* EP0 OUT */
    if (ep0_stage == EP0_DATA_OUT) {
      u32 n = BUF_CTRL_OUT(0) & BUF_LEN_MASK;
      if (n >= sizeof line_coding) from_dpram(line_coding, EP0_BUF, sizeof line_coding);
      ep0_status_in();
    } else {
      ep0_stage = EP0_IDLE;
    }
  }
  if (done & (1u << (EP_DATA_IN * 2))) { /* bulk IN sent */
    in_busy = 0;
    tx_kick();
  }
  if (done & (1u << (EP_DATA_OUT * 2 + 1))) { /* bulk OUT received: echo it in upper case */
    u8 packet[BULK_SIZE];
    u32 n = BUF_CTRL_OUT(EP_DATA_OUT) & BUF_LEN_MASK;
    if (n > BULK_SIZE) n = BULK_SIZE;
    from_dpram(packet, BUF_DATA_OUT, n);
    for (u32 i = 0; i < n; i++) {
      u8 c = packet[i];
      tx_put(c >= 'a' && c <= 'z' ? (u8)(c - 'a' + 'A') : c);
    }
    if (TX_SIZE - 1 - tx_count() >= BULK_SIZE) arm_out();
    else out_waiting = 1;
    tx_kick();
  }
}

static void bus_reset(void) {
  USB_ADDR_ENDP = 0;
  configured = 0;
  greeted = 0;
  ep0_stage = EP0_IDLE;
  tx_head = tx_tail = 0;
  in_busy = 0;
  USB_SIE_STATUS = SIE_STATUS_BUS_RESET;
}

void isr_usbctrl(void) {
  u32 status;
  while ((status = USB_INTS) != 0) {
    if (status & INT_SETUP_REQ) handle_setup();
    if (status & INT_BUFF_STATUS) {
      u32 done = USB_BUFF_STATUS;
      USB_BUFF_STATUS = done;
      handle_buffers(done);
    }
    if (status & INT_BUS_RESET) bus_reset();
  }
}

int main(void) {
  RESETS_RESET_CLR = RESET_USBCTRL;
  while (!(RESETS_RESET_DONE & RESET_USBCTRL)) {
  }
  for (u32 i = 0; i < DPRAM_SIZE; i += 4) REG(DPRAM + i) = 0;
  USB_USB_MUXING = MUXING_TO_PHY | MUXING_SOFTCON;
  USB_USB_PWR = PWR_VBUS_DETECT | PWR_VBUS_DETECT_OVERRIDE_EN;
  USB_MAIN_CTRL = MAIN_CTRL_CONTROLLER_EN;
  USB_SIE_CTRL = SIE_CTRL_EP0_INT_1BUF;
  USB_INTE = INT_SETUP_REQ | INT_BUS_RESET | INT_BUFF_STATUS;
  NVIC_ISER = 1u << USBCTRL_IRQ;
  USB_SIE_CTRL = SIE_CTRL_EP0_INT_1BUF | SIE_CTRL_PULLUP_EN; /* connect: the host sees the device */
  for (;;) __asm__ volatile("wfi");
}

/* crt0: .data from flash, .bss cleared, then main. */
extern u32 __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[], __stack_top[];

void reset_handler(void) {
  u32 *src = __data_load;
  for (u32 *dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (u32 *dst = __bss_start; dst < __bss_end;) *dst++ = 0;
  main();
  for (;;) __asm__ volatile("bkpt #0");
}

/* An unexpected exception stops the simulation at a breakpoint instead of hanging. */
void fault_handler(void) {
  for (;;) __asm__ volatile("bkpt #1");
}

__attribute__((section(".vectors"), used)) void (*const vectors[16 + 32])(void) = {
    [0] = (void (*)(void))__stack_top,
    [1] = reset_handler,
    [2] = fault_handler,
    [3] = fault_handler,
    [11] = fault_handler,
    [14] = fault_handler,
    [15] = fault_handler,
    [16 + USBCTRL_IRQ] = isr_usbctrl,
};
`;

let program: BareProgram | null = null;
let uf2 = '';
beforeAll(() => {
  if (!haveGcc) return;
  program = buildBareC(SOURCE, { name: 'bare-usb' });
  uf2 = program.uf2;
});
afterAll(() => program?.dispose());

describe.skipIf(!haveGcc)('a bare-metal USB CDC ACM device with descriptors of its own', () => {
  it('the test API: enumerated from its descriptors, its line on the console, typed input echoed in upper case', async () => {
    const log: string[] = [];
    const board = await PicoWBoard.create({ firmware: uf2, logger: new Logger({ level: 'debug', sink: (l) => log.push(l) }) });
    try {
      const sources = new Set<string>();
      board.on('console', (_bytes: Uint8Array, source: string) => sources.add(source));
      board.start();
      await board.whenUsbReady(30_000);
      expect(await board.waitForOutput(HELLO, { timeoutMs: 30_000 })).toBe(HELLO);
      board.writeConsole('typed on the host: abc xyz 123\r\n');
      await board.waitForOutput('TYPED ON THE HOST: ABC XYZ 123\r\n', { timeoutMs: 30_000 });
      // Longer than one 64-byte bulk packet each way, and than the device's 256-byte ring.
      const long = 'the quick brown fox jumps over the lazy dog; '.repeat(8) + '\n';
      board.writeConsole(long);
      await board.waitForOutput(long.toUpperCase(), { timeoutMs: 30_000 });
      expect(board.output).toBe(HELLO + 'TYPED ON THE HOST: ABC XYZ 123\r\n' + long.toUpperCase());
      expect([...sources]).toEqual(['usb']);
      // What the host read from the device: its identity, strings and CDC function.
      expect(log).toContain(
        '[usb] USB device 1209:0001 "picow-sim tests" "Bare-metal CDC ACM device without any USB stack" serial "BARE-0001"',
      );
      expect(log).toContain('[usb] CDC ACM: communication interface 1, bulk IN endpoint 0x83, bulk OUT endpoint 0x04');
      // The device starts at 9600 8N1: reading back 115200 shows SET_LINE_CODING's data stage reached it.
      expect(log).toContain('[usb] line coding 115200 8N1');
    } finally {
      board.dispose();
    }
  });

  it('the command line: the line and the echo of piped input on stdout, the enumeration under --trace usb', async () => {
    const r = await runCli(
      ['--firmware', uf2, '--no-server', '--trace', 'usb', '--expect', 'PIPED INPUT, ECHOED', '--timeout', '40'],
      60_000,
      { input: 'piped input, echoed\r\n' },
    );
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(HELLO + 'PIPED INPUT, ECHOED')).toBe(true);
    expect(r.stderr).toContain('[usb] USB device 1209:0001 "picow-sim tests"');
    expect(r.stderr).toContain('[usb] CDC ACM: communication interface 1, bulk IN endpoint 0x83, bulk OUT endpoint 0x04');
  });
});
