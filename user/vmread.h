/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Batched reads of the target's memory: many small reads (g structs,
 * sudogs, stack chunks) in few process_vm_readv calls. Each call costs
 * about as much per remote range as per byte copied for a few hundred
 * bytes, so neighbouring requests are merged into one range and up to
 * IOV_MAX ranges go into one call. */
#ifndef GOLEAKTRACE_VMREAD_H
#define GOLEAKTRACE_VMREAD_H

#include <stddef.h>
#include <stdint.h>
#include "target.h"

struct vm_read {
	uint64_t addr;		/* in the target */
	void *buf;		/* len bytes of ours */
	uint32_t len;
	int32_t err;		/* out: 0, or -EFAULT when not all readable */
};

/* Reads every request, in any order; requests may overlap. Returns 0, or
 * -ENOMEM (then no err is meaningful); a request that could not be read
 * has err -EFAULT and the contents of its buf are undefined. */
int vmread__batch(const struct target *t, struct vm_read *reqs, size_t n);


#endif
