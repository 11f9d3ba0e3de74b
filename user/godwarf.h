/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Go runtime struct offsets read from a Go binary's DWARF (libdw). */
#ifndef GOLEAKTRACE_GODWARF_H
#define GOLEAKTRACE_GODWARF_H

#include "gooffsets.h"

/* Fills *out from the DWARF of the ELF file behind fd (kept open by the
 * caller; its file position is not used). Fields the binary's runtime does
 * not have are -1. *out is only written on success. Returns 0, -ENODATA
 * without DWARF (e.g. built with -ldflags=-s -w), -ENOENT if there is
 * DWARF but no runtime.g struct, -ENOEXEC if fd is not ELF, -EINVAL for
 * malformed DWARF, -ENOMEM. */
int godwarf__read_offsets(int fd, struct go_offsets *out);

#endif
