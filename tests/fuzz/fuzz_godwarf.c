// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: struct offsets from DWARF (godwarf), on an ELF file
 * built around the input: a u16 (little endian) length, that many bytes
 * of .debug_abbrev, and the rest as .debug_info. Seeds are the runtime
 * structs' unit of real binaries (tests/fuzz/dwarf_seed.py), so the
 * mutations land in the DIEs godwarf walks, not in ELF or zlib. */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "godwarf.h"

static const char shstrtab[] = "\0.debug_abbrev\0.debug_info\0.shstrtab";

/* A section header of type SHT_PROGBITS (or strtab) at off. */
static Elf64_Shdr section(uint32_t name, uint32_t type, size_t off,
			  size_t size)
{
	return (Elf64_Shdr){ .sh_name = name, .sh_type = type,
			     .sh_offset = off, .sh_size = size,
			     .sh_addralign = 1 };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t abbrev_len, info_len, off, shoff;
	Elf64_Shdr sh[4] = {};
	Elf64_Ehdr eh = {};
	struct go_offsets o;
	const char *missing;
	uint8_t *image;
	int fd;

	if (size < 2)
		return 0;
	abbrev_len = data[0] | data[1] << 8;
	data += 2;
	size -= 2;
	if (abbrev_len > size)
		abbrev_len = size;
	info_len = size - abbrev_len;
	shoff = (sizeof(eh) + size + sizeof(shstrtab) + 7) & ~(size_t)7;
	image = calloc(1, shoff + sizeof(sh));
	if (!image)
		return 0;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shoff = shoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 4;
	eh.e_shstrndx = 3;
	off = sizeof(eh);
	sh[1] = section(1, SHT_PROGBITS, off, abbrev_len);
	sh[2] = section(15, SHT_PROGBITS, off + abbrev_len, info_len);
	sh[3] = section(27, SHT_STRTAB, off + size, sizeof(shstrtab));
	memcpy(image, &eh, sizeof(eh));
	memcpy(image + off, data, size);
	memcpy(image + off + size, shstrtab, sizeof(shstrtab));
	memcpy(image + shoff, sh, sizeof(sh));

	fd = memfd_create("fuzz-godwarf", MFD_CLOEXEC);
	if (fd >= 0 && write(fd, image, shoff + sizeof(sh)) ==
		       (ssize_t)(shoff + sizeof(sh)) &&
	    !godwarf__read_offsets(fd, &o))
		go_offsets__check(&o, &missing);
	if (fd >= 0)
		close(fd);
	free(image);
	return 0;
}
