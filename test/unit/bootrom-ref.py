"""Independent reference for the soft-float/soft-double ROM entries (exact rational arithmetic).

Reads a JSON list of cases from stdin: {"fmt": "f"|"d", "op": name, "args": [ints...]} where float
and double operands are raw bit patterns (ints) and other arguments are register values, and prints
a JSON list of results: the expected raw result (an int; 64-bit values as one int) per case.

Rules (RP2040 boot ROM, V2/V3 behaviour): inputs are classified Z (zero or denormal -> zero of that
sign), I (infinity or NaN -> infinity of that sign) or N. Basic ops round to nearest even at the
format's precision with an unbounded exponent; below the smallest normal -> signed zero; at or above
2^(emax+1) -> signed infinity. Conversions to integers floor and saturate.
"""
import json
import math
import sys
from fractions import Fraction

FMT = {
    "f": dict(p=24, ebits=8, bits=32, emin=-126, emax=127),
    "d": dict(p=53, ebits=11, bits=64, emin=-1022, emax=1023),
}


def decode(bits, fmt):
    f = FMT[fmt]
    mbits = f["p"] - 1
    sign = (bits >> (f["bits"] - 1)) & 1
    e = (bits >> mbits) & ((1 << f["ebits"]) - 1)
    m = bits & ((1 << mbits) - 1)
    if e == 0:
        return ("Z", sign, Fraction(0))
    if e == (1 << f["ebits"]) - 1:
        return ("I", sign, None)
    bias = (1 << (f["ebits"] - 1)) - 1
    v = Fraction((1 << mbits) | m) * Fraction(2) ** (e - bias - mbits)
    return ("N", sign, -v if sign else v)


def enc_zero(sign, fmt):
    return sign << (FMT[fmt]["bits"] - 1)


def enc_inf(sign, fmt):
    f = FMT[fmt]
    return (sign << (f["bits"] - 1)) | (((1 << f["ebits"]) - 1) << (f["p"] - 1))


def ilog2(x):
    """floor(log2(x)) for a positive Fraction."""
    n, d = x.numerator, x.denominator
    e = n.bit_length() - d.bit_length()
    if Fraction(2) ** e > x:
        e -= 1
    elif Fraction(2) ** (e + 1) <= x:
        e += 1
    return e


def round_p(x, p):
    """Round a positive Fraction to p significant bits, nearest even, unbounded exponent."""
    e = ilog2(x)
    scale = Fraction(2) ** (p - 1 - e)
    y = x * scale
    q = y.numerator // y.denominator
    rem = y - q
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and q % 2 == 1):
        q += 1
    return Fraction(q) / scale


def encode_normal(v, fmt):
    f = FMT[fmt]
    sign = 1 if v < 0 else 0
    a = -v if sign else v
    e = ilog2(a)
    mbits = f["p"] - 1
    bias = (1 << (f["ebits"] - 1)) - 1
    m = a / Fraction(2) ** (e - mbits)
    assert m.denominator == 1
    return (sign << (f["bits"] - 1)) | ((e + bias) << mbits) | (int(m) - (1 << mbits))


def pack(v, fmt, zero_sign, generic=False, mode="round"):
    """Pack an exact value.

    mode: underflow rule below 2^emin. "round": zero unless rounding to p bits reaches 2^emin;
    "trunc": smallest normal when |v| >= 2^emin - 2^(emin-p) (significand truncated to p bits is
    all ones), else zero; "exact": zero whenever |v| < 2^emin.
    generic: the zero of an underflow is +0 for floats (sign lost), signed for doubles.
    """
    f = FMT[fmt]
    lose_sign = generic and fmt == "f"
    if v == 0:
        return enc_zero(0 if lose_sign else zero_sign, fmt)
    sign = 1 if v < 0 else 0
    a = abs(v)
    r = round_p(a, f["p"])
    tiny = Fraction(2) ** f["emin"]
    if mode == "round":
        under = r < tiny
    elif mode == "trunc":
        under = a < tiny - Fraction(2) ** (f["emin"] - f["p"])
    else:
        under = a < tiny
    if under:
        return enc_zero(0 if lose_sign else sign, fmt)
    if r < tiny:
        r = tiny
    if r >= Fraction(2) ** (f["emax"] + 1):
        return enc_inf(sign, fmt)
    return encode_normal(-r if sign else r, fmt)


def add(a, b, fmt):
    ca, sa, va = decode(a, fmt)
    cb, sb, vb = decode(b, fmt)
    if ca == "I" and cb == "I":
        return enc_inf(sa if sa == sb else 0, fmt)
    if ca == "I":
        return enc_inf(sa, fmt)
    if cb == "I":
        return enc_inf(sb, fmt)
    s = va + vb
    if s == 0:
        both_neg_zero = ca == "Z" and cb == "Z" and sa == 1 and sb == 1
        return enc_zero(1 if both_neg_zero else 0, fmt)
    return pack(s, fmt, 0)


def neg(b, fmt):
    return b ^ (1 << (FMT[fmt]["bits"] - 1))


def mul(a, b, fmt):
    ca, sa, va = decode(a, fmt)
    cb, sb, vb = decode(b, fmt)
    s = sa ^ sb
    if ca == "I" or cb == "I":
        return enc_inf(s, fmt)
    if ca == "Z" or cb == "Z":
        return enc_zero(s, fmt)
    return pack(va * vb, fmt, s, mode="trunc")


def div(a, b, fmt):
    ca, sa, va = decode(a, fmt)
    cb, sb, vb = decode(b, fmt)
    s = sa ^ sb
    if cb == "Z":
        return enc_inf(s, fmt)
    if cb == "I":
        return enc_inf(s, fmt) if ca == "I" else enc_zero(s, fmt)
    if ca == "Z":
        return enc_zero(s, fmt)
    if ca == "I":
        return enc_inf(s, fmt)
    return pack(va / vb, fmt, s, mode="round" if fmt == "f" else "exact")


def sqrt(a, fmt):
    c, s, v = decode(a, fmt)
    if c == "Z":
        return enc_zero(s, fmt)
    if s:
        return enc_inf(1, fmt)
    if c == "I":
        return enc_inf(0, fmt)
    p = FMT[fmt]["p"]
    # sqrt(v) = sqrt(N) * 2^-k with N integer large enough; r = isqrt(N), sticky if inexact
    k = 2 * p + 8
    while True:
        y = v * Fraction(4) ** k
        if y.denominator == 1 and y.numerator.bit_length() >= 2 * p + 8:
            break
        k += 8
    n = y.numerator
    r = math.isqrt(n)
    exact = r * r == n
    # r*2^-k <= sqrt(v) < (r+1)*2^-k; with r having >= p+4 bits, r + 1/4 stands in for the sticky bit
    val = (Fraction(r) + (0 if exact else Fraction(1, 4))) / Fraction(2) ** k
    return pack(val, fmt, 0)


def to_value(c, s, v):
    if c == "I":
        return None
    return v


def floor_sat(a, n, fmt, lo, hi, unsigned):
    c, s, v = decode(a, fmt)
    if unsigned and s == 1:
        return 0
    if c == "Z":
        return 0
    if c == "I":
        return lo if s else hi
    x = v * Fraction(2) ** n
    q = x.numerator // x.denominator
    return max(lo, min(hi, q))


def int_to(vint, n, fmt, generic):
    v = Fraction(vint) * Fraction(2) ** (-n)
    return pack(v, fmt, 0, generic=generic, mode="trunc" if fmt == "f" else "exact")


def cmp_flush(a, b, fmt):
    def key(x):
        c, s, v = decode(x, fmt)
        if c == "I":
            return (1 if not s else -1, 0)
        return (0, v)

    ka, kb = key(a), key(b)
    if ka < kb:
        return 0xFFFFFFFF
    if ka > kb:
        return 1
    return 0


def cmp_fast(a, b, fmt):
    bits = FMT[fmt]["bits"]

    def key(x):
        m = x & ((1 << (bits - 1)) - 1)
        return -m if x >> (bits - 1) else m

    ka, kb = key(a), key(b)
    return 0xFFFFFFFF if ka < kb else 1 if ka > kb else 0


def s32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


def s64(x):
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >> 63 else x


I32 = (-(1 << 31), (1 << 31) - 1)
U32 = (0, (1 << 32) - 1)
I64 = (-(1 << 63), (1 << 63) - 1)
U64 = (0, (1 << 64) - 1)


def f2d(a):
    c, s, v = decode(a, "f")
    if c == "Z":
        return enc_zero(s, "d")
    if c == "I":
        return enc_inf(s, "d")
    return encode_normal(v, "d")


def d2f(a):
    c, s, v = decode(a, "d")
    if c == "Z":
        return enc_zero(s, "f")
    if c == "I":
        return enc_inf(s, "f")
    return pack(v, "f", s, mode="trunc")


def run(case):
    fmt, op, args = case["fmt"], case["op"], case["args"]
    if op == "add":
        return add(args[0], args[1], fmt)
    if op == "sub":
        return add(args[0], neg(args[1], fmt), fmt)
    if op == "mul":
        return mul(args[0], args[1], fmt)
    if op == "div":
        return div(args[0], args[1], fmt)
    if op == "sqrt":
        return sqrt(args[0], fmt)
    if op == "cmp":
        return cmp_flush(args[0], args[1], fmt)
    if op == "cmp_fast":
        return cmp_fast(args[0], args[1], fmt)
    if op in ("2int", "2fix", "2uint", "2ufix", "2int64", "2fix64", "2uint64", "2ufix64"):
        n = s32(args[1]) if op.endswith("fix") or op.endswith("fix64") else 0
        rng = {"2int": I32, "2fix": I32, "2uint": U32, "2ufix": U32, "2int64": I64, "2fix64": I64, "2uint64": U64, "2ufix64": U64}[op]
        r = floor_sat(args[0], n, fmt, rng[0], rng[1], op in ("2uint", "2ufix", "2uint64", "2ufix64"))
        return r & ((1 << 64) - 1) if "64" in op else r & 0xFFFFFFFF
    if op == "int2":
        return int_to(s32(args[0]), 0, fmt, False)
    if op == "uint2":
        return int_to(args[0] & 0xFFFFFFFF, 0, fmt, False)
    if op == "fix2":
        return int_to(s32(args[0]), s32(args[1]), fmt, True)
    if op == "ufix2":
        return int_to(args[0] & 0xFFFFFFFF, s32(args[1]), fmt, True)
    if op == "int642":
        return int_to(s64(args[0]), 0, fmt, True)
    if op == "uint642":
        return int_to(args[0], 0, fmt, True)
    if op == "fix642":
        return int_to(s64(args[0]), s32(args[1]), fmt, True)
    if op == "ufix642":
        return int_to(args[0], s32(args[1]), fmt, True)
    if op == "f2d":
        return f2d(args[0])
    if op == "d2f":
        return d2f(args[0])
    raise ValueError("unknown op " + op)


cases = json.load(sys.stdin)
print(json.dumps([run(c) for c in cases]))
