/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Park stacks interned: a million goroutines parked at a handful of
 * places cost a handful of stacks, each known by a small id. */
#ifndef GOLEAKTRACE_STACKSET_H
#define GOLEAKTRACE_STACKSET_H

#include <stddef.h>
#include <stdint.h>

struct stack_ent;

struct stackset {
	uint64_t *pcs;		/* every stack, back to back */
	size_t npcs, cap_pcs;
	struct stack_ent *ents;
	size_t nents, cap_ents;
	uint32_t *slots;	/* open addressing: entry index + 1, 0 free */
	size_t nslots;		/* power of two */
};

/* The id of the stack pcs[0..n), added if new. 0 or -ENOMEM. */
int stackset__intern(struct stackset *s, const uint64_t *pcs, int n,
		     uint32_t *id);
/* The pcs of stack id (a valid id); *n gets their number. */
const uint64_t *stackset__get(const struct stackset *s, uint32_t id, int *n);
void stackset__free(struct stackset *s);

/* Stack ids of one stackset as ids of another (interning them there on
 * first use): stacks kept from one report or scan to the next. */
struct stackset_map {
	const struct stackset *from;
	struct stackset *to;
	uint32_t *ids;		/* id in to + 1, 0 not yet */
	size_t nids;
};

int stackset_map__get(struct stackset_map *m, uint32_t from_id,
		      uint32_t *to_id);
void stackset_map__free(struct stackset_map *m);

#endif
