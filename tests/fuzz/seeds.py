#!/usr/bin/env python3
"""Fuzzer seeds cut from a real Go binary, in the input formats of the
targets, so that the fuzzer mutates what the parser reads and not a
whole executable.
    seeds.py dwarf BINARY OUT     fuzz_godwarf: u16 abbrev length (LE),
        .debug_abbrev, and a .debug_info cut down to one unit holding the
        runtime structs goleaktrace reads (runtime.g, m, sudog, hchan,
        semaRoot) and every type they refer to, references rewritten.
    seeds.py pclntab BINARY OUT FIRST
        fuzz_pclntab: u64 text start, u32 pclntab length, u64 offset of
        go:func.* in the funcdata, u32 FIRST (the first function the
        target symbolizes), the pclntab, then the funcdata (the inline
        trees): the tail of .rodata from go:func.* up to Go 1.24, none
        (it is inside the pclntab) from 1.26."""
import bisect
import struct
import sys
import zlib

ROOTS = [b"runtime.g", b"runtime.m", b"runtime.sudog", b"runtime.hchan",
         b"runtime.semaRoot"]
DW_AT_name = 0x03
# Sizes of the fixed-size forms (DWARF32, 8-byte addresses).
FIXED = {0x01: 8, 0x05: 2, 0x06: 4, 0x07: 8, 0x0b: 1, 0x0c: 1, 0x0e: 4,
         0x10: 4, 0x11: 1, 0x12: 2, 0x13: 4, 0x14: 8, 0x17: 4, 0x19: 0,
         0x1f: 4, 0x21: 0, 0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4, 0x29: 1,
         0x2a: 2, 0x2b: 3, 0x2c: 4}


def section_headers(d):
    """{name: (addr, offset, size, type, flags)}"""
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3a)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
            for i in range(shnum)]
    stro = hdrs[shstrndx][4]
    return {d[stro + h[0]:d.index(b"\0", stro + h[0])].decode():
            (h[3], h[4], h[5], h[1], h[2]) for h in hdrs}


def symbol(d, sh, names):
    """Value of the first of names in .symtab."""
    _, off, size, _, _ = sh[".symtab"]
    stroff = sh[".strtab"][1]
    found = {}
    for i in range(off, off + size, 24):
        name_off, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", d, i)
        name = d[stroff + name_off:d.index(b"\0", stroff + name_off)]
        if name in names:
            found[name] = value
    for n in names:
        if n in found:
            return found[n]
    sys.exit("seeds: no symbol %s" % names[0].decode())


def pclntab(src, out, first):
    d = open(src, "rb").read()
    sh = section_headers(d)
    tab = ".data.rel.ro.gopclntab" if ".data.rel.ro.gopclntab" in sh \
        else ".gopclntab"
    taddr, toff, tsize, _, _ = sh[tab]
    text = symbol(d, sh, [b"runtime.text"])
    gofunc = symbol(d, sh, [b"go:func.*", b"go.func.*"])
    if taddr <= gofunc < taddr + tsize:
        goff, funcdata = gofunc - taddr, b""
    else:
        for addr, off, size, typ, _ in sh.values():
            if typ != 8 and addr <= gofunc < addr + size:
                funcdata = d[off + gofunc - addr:off + size]
                goff = 0
                break
        else:
            sys.exit("seeds: go:func.* is in no section")
    with open(out, "wb") as f:
        f.write(struct.pack("<QIQI", text, tsize, goff, first))
        f.write(d[toff:toff + tsize] + funcdata)


def sections(path):
    d = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3a)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
            for i in range(shnum)]
    stro = hdrs[shstrndx][4]
    out = {}
    for name_off, typ, flags, _, off, size, *_ in hdrs:
        name = d[stro + name_off:d.index(b"\0", stro + name_off)].decode()
        data = d[off:off + size] if typ != 8 else b""
        if flags & 0x800:           # SHF_COMPRESSED: Elf64_Chdr, zlib
            data = zlib.decompress(data[24:])
        elif name.startswith(".zdebug"):   # "ZLIB" + size, zlib
            data, name = zlib.decompress(data[12:]), "." + name[2:]
        out[name] = data
    return out


def uleb(b, p):
    r = shift = 0
    while True:
        x = b[p]
        p += 1
        r |= (x & 0x7f) << shift
        shift += 7
        if x < 0x80:
            return r, p


def abbrevs(b):
    table, p = {}, 0
    while True:
        code, p = uleb(b, p)
        if code == 0:
            return table
        tag, p = uleb(b, p)
        children = b[p]
        p += 1
        attrs = []
        while True:
            a, p = uleb(b, p)
            f, p = uleb(b, p)
            if f == 0x21:
                _, p = uleb(b, p)
            if a == 0 and f == 0:
                break
            attrs.append((a, f))
        table[code] = (tag, children, attrs)


def die(info, p, table, refs):
    """Parses the DIE at p and its children; appends (field position,
    target section offset, form) of each reference; returns (end, name)."""
    code, p = uleb(info, p)
    if code == 0:
        return p, None
    _, children, attrs = table[code]
    name = None
    for a, f in attrs:
        if f in (0x10, 0x13):
            refs.append((p, struct.unpack_from("<I", info, p)[0], f))
        if f == 0x08:
            end = info.index(b"\0", p)
            if a == DW_AT_name:
                name = info[p:end]
            p = end + 1
        elif f in FIXED:
            p += FIXED[f]
        elif f in (0x0d, 0x0f, 0x15, 0x1a, 0x1b):
            _, p = uleb(info, p)
        elif f in (0x09, 0x18):
            n, p = uleb(info, p)
            p += n
        elif f == 0x0a:
            p += 1 + info[p]
        else:
            sys.exit("dwarf_seed: unknown form 0x%x" % f)
    if children:
        while True:
            if info[p] == 0:
                p += 1
                break
            p, _ = die(info, p, table, refs)
    return p, name


def dwarf(src, out):
    s = sections(src)
    abbrev, info = s[".debug_abbrev"], s[".debug_info"]
    table = abbrevs(abbrev)
    off = 0
    while off < len(info):
        length, version = struct.unpack_from("<IH", info, off)
        if b"runtime.g\0" in info[off:off + 4 + length]:
            break
        off += 4 + length
    else:
        sys.exit("dwarf_seed: %s: no unit with runtime.g" % src)
    hdr = 12 if version >= 5 else 11
    cu_end = off + 4 + length
    # The unit's own DIE without its children, then the children one by
    # one: the types are top-level.
    code, _ = uleb(info, off + hdr)
    saved = table[code]
    table[code] = (saved[0], 0, saved[2])
    p_children, _ = die(info, off + hdr, table, [])
    table[code] = saved
    tops = []       # (start, end, name, refs)
    p = p_children
    while p < cu_end and info[p] != 0:
        refs = []
        end, name = die(info, p, table, refs)
        tops.append((p, end, name, refs))
        p = end
    starts = [t[0] for t in tops]
    keep = {i for i, t in enumerate(tops) if t[2] in ROOTS}
    work = list(keep)
    while work:
        for _, target, form in tops[work.pop()][3]:
            if form == 0x13:
                target += off
            i = bisect.bisect_right(starts, target) - 1
            if 0 <= i and target < tops[i][1] and i not in keep:
                keep.add(i)
                work.append(i)
    kept = sorted(keep)
    head = bytearray(info[off:p_children])
    body = bytearray(head)
    moved = {}
    for i in kept:
        moved[i] = len(body)
        body += info[tops[i][0]:tops[i][1]]
    body += b"\0"

    def new_offset(target):
        i = bisect.bisect_right(starts, target) - 1
        if i in moved:
            return moved[i] + target - tops[i][0]
        return 0    # into the dropped part: the unit's own DIE

    for i in kept:
        for pos, target, form in tops[i][3]:
            t = target + off if form == 0x13 else target
            npos = moved[i] + pos - tops[i][0]
            struct.pack_into("<I", body, npos, new_offset(t))
    struct.pack_into("<I", body, 0, len(body) - 4)
    if version >= 5:
        struct.pack_into("<I", body, 8, 0)
    else:
        struct.pack_into("<I", body, 6, 0)
    with open(out, "wb") as f:
        f.write(struct.pack("<H", len(abbrev)) + abbrev + bytes(body))


if __name__ == "__main__":
    if sys.argv[1] == "dwarf":
        dwarf(sys.argv[2], sys.argv[3])
    else:
        pclntab(sys.argv[2], sys.argv[3], int(sys.argv[4]))
