/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Go binary analysis: everything the tracer learns from the target's
 * executable file, never from its memory. The Go version (buildinfo),
 * function and data symbols, struct offsets (DWARF, else the per-version
 * table), the wait-reason names, and a PC symbolizer (pclntab). */
#ifndef GOLEAKTRACE_GOBIN_H
#define GOLEAKTRACE_GOBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gooffsets.h"
#include "gopclntab.h"

struct gobin;

enum gobin_arch {
	GOBIN_ARCH_X86_64,
	GOBIN_ARCH_ARM64,
};

/* Where the struct offsets came from, for the user and the tests. */
enum gobin_offsets_source {
	GOBIN_OFFSETS_DWARF,
	GOBIN_OFFSETS_TABLE,
};

/* Where the wait-reason names came from. A binary whose array is corrupt
 * keeps the names read before the damage, still from the binary. */
enum gobin_wait_reasons_source {
	GOBIN_WAIT_REASONS_BINARY,	/* runtime.waitReasonStrings */
	GOBIN_WAIT_REASONS_TABLE,	/* the built-in table (-s -w) */
	GOBIN_WAIT_REASONS_NONE,	/* neither: "waitReason(N)" */
};

/* Opens the executable behind fd (kept open by the caller). On failure
 * *errmsg (static or owned by nobody) says what went wrong in user terms. */
int gobin__open(struct gobin **out, int fd, const char **errmsg);
void gobin__free(struct gobin *bin);

const char *gobin__go_version(const struct gobin *bin);
/* Build id for profiles: the Go one (.note.go.buildid, as `go tool buildid`
 * prints it), else the GNU one in hex; "" when the binary has neither. */
const char *gobin__build_id(const struct gobin *bin);
enum gobin_arch gobin__arch(const struct gobin *bin);
const struct go_offsets *gobin__offsets(const struct gobin *bin);
enum gobin_offsets_source gobin__offsets_source(const struct gobin *bin);
bool gobin__is_pie(const struct gobin *bin);

/* Function entry and end by name: .symtab first, then the pclntab
 * (which has no ".abi0" suffixes). */
int gobin__find_func(const struct gobin *bin, const char *name,
		     uint64_t *entry, uint64_t *end);
/* Data symbol by name: .symtab, else (stripped binaries) decoded from the
 * code of a runtime function that uses it. Only the globals the tracer
 * needs can be found the second way: runtime.allglen, runtime.allgptr. */
int gobin__find_data(const struct gobin *bin, const char *name,
		     uint64_t *addr, uint64_t *size);
/* The second way alone, for the tests: -ENOENT when it fails. */
int gobin__find_data_in_code(const struct gobin *bin, const char *name,
			     uint64_t *addr, uint64_t *size);

/* Link-time address -> file offset, through the PT_LOAD headers. */
int gobin__vaddr_to_offset(const struct gobin *bin, uint64_t vaddr,
			   uint64_t *offset);
/* Copies len bytes of file-backed content at link-time address vaddr. */
int gobin__read(const struct gobin *bin, uint64_t vaddr, void *buf,
		size_t len);
/* Lowest PT_LOAD vaddr (page aligned), to compute a PIE load bias. */
uint64_t gobin__base_vaddr(const struct gobin *bin);

enum gobin_wait_reasons_source
gobin__wait_reasons_source(const struct gobin *bin);
/* Number of named wait reasons (0 ... count - 1). */
int gobin__wait_reason_count(const struct gobin *bin);
/* The runtime's own name of a wait reason, "waitReason(N)" if unknown. */
const char *gobin__wait_reason(const struct gobin *bin, unsigned reason);
/* Index of a wait-reason name in this binary, -ENOENT if absent. */
int gobin__wait_reason_index(const struct gobin *bin, const char *name);

/* The function table itself, e.g. to list every function. */
const struct pclntab *gobin__pclntab(const struct gobin *bin);

/* Logical frames of a stack frame whose pc (link-time) is a return
 * address, as the runtime's tracebacks see it: at the call, pc - 1,
 * unless pc is its function's entry, where a frame pushed by hand resumes
 * (systemstack_switch below a cgo callback in Go 1.19). */
int gobin__symbolize_caller(const struct gobin *bin, uint64_t pc,
			    struct pclntab_frame *frames, int max_frames);

/* Frame size at a link-time pc (see pclntab__sp_delta). */
int gobin__sp_delta(const struct gobin *bin, uint64_t pc, int32_t *delta);

/* Logical frames at a link-time pc (see pclntab__symbolize). */
int gobin__symbolize(const struct gobin *bin, uint64_t pc,
		     struct pclntab_frame *frames, int max_frames);

#endif
